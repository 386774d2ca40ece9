#include "stages/post_journal.h"

#include <unistd.h>

#include <sstream>

#include "base/parse.h"

namespace lu::stages {
namespace {

JournalFacts parse(const std::string& text) {
  JournalFacts f;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, a, b;
    words >> key >> a >> b;
    if (key == "attempt") {
      ++f.attempts;
      f.last_boot_id = a;
      f.last_started_ns = parse_number<std::int64_t>(b).value_or(0);
    } else if (key == "consuming") {
      f.consumed = true;
    } else if (key == "finished" && !a.empty()) {
      f.finished.push_back(a);
    } else if (key == "done") {
      f.done = true;
      f.verdict = a;
      f.done_boot_id = b;
    }
  }
  return f;
}

}  // namespace

JournalFacts PostJournal::read(const std::string& path) {
  if (!path_exists(path)) return {};
  auto text = read_text_file(path, 4u << 20);
  return text ? parse(*text) : JournalFacts{};
}

Result<PostJournal> PostJournal::open(const std::string& path) {
  auto facts = read(path);
  auto out = LU_TRY(DurableAppender::open(path, false));
  return PostJournal(std::move(out), std::move(facts));
}

Status PostJournal::attempt(const std::string& boot_id, std::int64_t now_ns) {
  LU_TRY_VOID(out_.append("attempt " + boot_id + " " + std::to_string(now_ns) + " pid " + std::to_string(::getpid()) +
                          "\n"));
  return out_.sync();
}

Status PostJournal::consuming() {
  LU_TRY_VOID(out_.append("consuming lu-test.state\n"));
  return out_.sync();
}

Status PostJournal::finished(const std::string& session) { return out_.append("finished " + session + "\n"); }

Status PostJournal::done(const std::string& verdict, const std::string& boot_id) {
  LU_TRY_VOID(out_.append("done " + verdict + " " + boot_id + "\n"));
  return out_.sync();
}

}  // namespace lu::stages
