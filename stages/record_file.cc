#include "stages/record_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "base/files.h"

namespace lu::stages {
namespace {

// The result lines a file already holds: "ok N name[ # DIRECTIVE ...]" / "not ok N name ...".
std::vector<WrittenResult> scan_results(const std::string& text) {
  std::vector<WrittenResult> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool ok = line.rfind("ok ", 0) == 0;
    if (!ok && line.rfind("not ok ", 0) != 0) continue;
    std::istringstream words(line.substr(ok ? 3 : 7));
    WrittenResult r;
    words >> r.number >> r.name;
    if (r.number == 0 || r.name.empty()) continue;
    auto hash = line.find(" # ");
    std::string directive = hash == std::string::npos ? "" : line.substr(hash + 3);
    if (directive.rfind("SKIP", 0) == 0) r.outcome = Outcome::kSkip;
    else if (directive.rfind("XFAIL", 0) == 0) r.outcome = Outcome::kXfail;
    else if (directive.rfind("ERROR", 0) == 0) r.outcome = Outcome::kError;
    else r.outcome = ok ? Outcome::kPass : Outcome::kFail;
    out.push_back(std::move(r));
  }
  return out;
}

// A write cut short (a kill, a full disk) leaves a partial last line; it is dropped so the
// rerun's lines start cleanly.
Status drop_partial_line(const std::string& path, const std::string& text) {
  if (text.empty() || text.back() == '\n') return {};
  auto keep = text.rfind('\n');
  off_t size = keep == std::string::npos ? 0 : static_cast<off_t>(keep + 1);
  if (::truncate(path.c_str(), size) != 0)
    return fail(ErrorKind::kSystem, "truncate", path, "could not drop the interrupted partial line", errno);
  return {};
}

}  // namespace

const char* run_outcome_name(RunOutcome o) {
  switch (o) {
    case RunOutcome::kPass: return "PASS";
    case RunOutcome::kFail: return "FAIL";
    case RunOutcome::kError: return "ERROR";
    case RunOutcome::kSkip: return "SKIP";
    case RunOutcome::kMiss: return "MISS";
    case RunOutcome::kCancelled: return "CANCELLED";
  }
  return "?";
}

void Counts::add(Outcome o) {
  switch (o) {
    case Outcome::kPass: ++passed; break;
    case Outcome::kFail: ++failed; break;
    case Outcome::kError: ++errors; break;
    case Outcome::kSkip: ++skipped; break;
    case Outcome::kXfail: ++xfailed; break;
  }
}

RunOutcome Counts::overall() const {
  if (failed) return RunOutcome::kFail;
  if (errors) return RunOutcome::kError;
  if (passed == 0 && xfailed == 0) return RunOutcome::kSkip;  // nothing was tested: never green
  return RunOutcome::kPass;
}

std::string Counts::totals() const {
  return "pass:" + std::to_string(passed) + " fail:" + std::to_string(failed) + " xfail:" + std::to_string(xfailed) +
         " xpass:0 skip:" + std::to_string(skipped) + " error:" + std::to_string(errors);
}

RecordFile::RecordFile(std::string path, KtapStream ktap, const state::RunState& st)
    : path_(std::move(path)), ktap_(std::move(ktap)), plan_(st.planned_checks) {}

Result<std::unique_ptr<RecordFile>> RecordFile::create(const Paths& paths, const state::RunState& st) {
  LU_TRY_VOID(make_directories(paths.records_dir()));
  auto path = paths.record_file(st.iteration, st.run_id);
  if (path_exists(path))
    return fail(ErrorKind::kBusy, "create record", path,
                "a record of this iteration exists already: one attempt per file; this is a bug or a copied state");
  auto ktap = LU_TRY(KtapStream::create(path));
  auto record = std::unique_ptr<RecordFile>(new RecordFile(path, std::move(ktap), st));
  LU_TRY_VOID(link_latest(paths, path));
  return record;
}

Result<std::unique_ptr<RecordFile>> RecordFile::resume(const Paths& paths, const state::RunState& st) {
  auto path = paths.record_file(st.iteration, st.run_id);
  auto text = read_text_file(path, 64u << 20);
  if (!text) {
    Error e = text.error();
    if (e.kind == ErrorKind::kNotFound)
      e.hint = "the pre stage's record of run " + st.run_id + " iteration " + std::to_string(st.iteration) +
               " is missing from " + paths.records_dir() + "; was the state directory changed?";
    return fail(e);
  }
  LU_TRY_VOID(drop_partial_line(path, *text));
  auto ktap = LU_TRY(KtapStream::resume(path));
  auto record = std::unique_ptr<RecordFile>(new RecordFile(path, std::move(ktap), st));
  record->written_ = scan_results(*text);
  // A record that has its verdict is finished: nothing more is ever appended to it.
  record->closed_ = text->find("\n# lu-test verdict: ") != std::string::npos;
  return record;
}

Status RecordFile::reserve() {
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail(ErrorKind::kSystem, "open", path_, "the record cannot be written", errno);
  off_t end = ::lseek(fd.get(), 0, SEEK_END);
  off_t room = static_cast<off_t>(64 * 1024 + 4096 * plan_.size());
  int err = ::fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, end < 0 ? 0 : end, room);
  if (err == 0 || errno == EOPNOTSUPP || errno == ENOSYS) return {};  // 9p, some FUSE: cannot reserve, go on
  return fail(ErrorKind::kSystem, "fallocate", path_,
              "no room for the verdict on the state directory's filesystem; nothing has been consumed yet: free "
              "space and run the post stage again",
              errno);
}

Status RecordFile::diagnostic(const std::string& text) {
  std::lock_guard lock(mu_);
  if (closed_) return {};
  LU_TRY_VOID(ktap_.diagnostic(text));
  return ktap_.sync();
}

bool RecordFile::has(const std::string& name) const {
  std::lock_guard lock(mu_);
  return std::any_of(written_.begin(), written_.end(), [&](auto& w) { return w.name == name; });
}

Status RecordFile::write(const CheckResult& r) {
  std::lock_guard lock(mu_);
  return write_locked(r);
}

Status RecordFile::write_locked(const CheckResult& r) {
  if (closed_) return {};
  auto at = std::find(plan_.begin(), plan_.end(), r.name);
  if (at == plan_.end())
    return fail(ErrorKind::kInternal, "record result", r.name, "a check reported that the plan does not name");
  auto number = static_cast<std::uint32_t>(at - plan_.begin() + 1);
  for (auto& w : written_)
    if (w.number == number) return {};  // an earlier attempt wrote it: the first result stands
  LU_TRY_VOID(ktap_.result(number, r));
  LU_TRY_VOID(ktap_.sync());
  written_.push_back({number, r.name, r.outcome});
  return {};
}

Status RecordFile::close_remaining(Outcome outcome, const std::string& reason) {
  std::lock_guard lock(mu_);
  for (auto& name : plan_) LU_TRY_VOID(write_locked({name, outcome, reason, {}}));
  return {};
}

Counts RecordFile::counts() const {
  std::lock_guard lock(mu_);
  Counts c;
  for (auto& w : written_) c.add(w.outcome);
  return c;
}

Status RecordFile::close() { return close(counts().overall()); }

Status RecordFile::close(RunOutcome verdict) {
  Counts c = counts();
  std::lock_guard lock(mu_);
  if (closed_) return {};
  LU_TRY_VOID(ktap_.diagnostic("Totals: " + c.totals()));
  LU_TRY_VOID(ktap_.diagnostic(std::string("lu-test verdict: ") + run_outcome_name(verdict)));
  LU_TRY_VOID(ktap_.sync());
  closed_ = true;
  return {};
}

bool RecordFile::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::vector<WrittenResult> RecordFile::results() const {
  std::lock_guard lock(mu_);
  return written_;
}

Status link_latest(const Paths& paths, const std::string& record) {
  std::string temp = paths.ktap_file() + ".new." + std::to_string(::getpid());
  ::unlink(temp.c_str());
  if (::link(record.c_str(), temp.c_str()) != 0)
    return fail(ErrorKind::kSystem, "link", record, "could not point lu-test.ktap at the newest record", errno);
  if (::rename(temp.c_str(), paths.ktap_file().c_str()) != 0) {
    int e = errno;
    ::unlink(temp.c_str());
    return fail(ErrorKind::kSystem, "rename", paths.ktap_file(), "could not point lu-test.ktap at the newest record", e);
  }
  return {};
}

}  // namespace lu::stages
