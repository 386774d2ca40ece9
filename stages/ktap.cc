#include "stages/ktap.h"

namespace lu::stages {
namespace {
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

std::string ktap_line(std::uint32_t number, const CheckResult& r) {
  std::string line = (r.outcome == Outcome::kFail || r.outcome == Outcome::kError) ? "not ok " : "ok ";
  line += std::to_string(number) + " " + r.name;
  switch (r.outcome) {
    case Outcome::kSkip: line += " # SKIP " + one_line(r.diagnosis); break;
    case Outcome::kXfail: line += " # XFAIL " + one_line(r.diagnosis); break;
    case Outcome::kError: line += " # ERROR " + one_line(r.diagnosis); break;
    default: break;
  }
  line += "\n";
  if (r.outcome == Outcome::kFail || r.outcome == Outcome::kPass) {
    if (!r.diagnosis.empty()) line += "# " + r.name + ": " + one_line(r.diagnosis) + "\n";
  }
  for (auto& [k, v] : r.facts) line += "# " + r.name + ": " + k + "=" + one_line(v) + "\n";
  return line;
}

Result<KtapStream> KtapStream::create(const std::string& path) {
  return KtapStream(LU_TRY(DurableAppender::open(path, true)));
}

Result<KtapStream> KtapStream::resume(const std::string& path) {
  return KtapStream(LU_TRY(DurableAppender::open(path, false)));
}

Status KtapStream::header(std::size_t planned) {
  return out_.append("KTAP version 1\n1.." + std::to_string(planned) + "\n");
}

Status KtapStream::diagnostic(const std::string& text) { return out_.append("# " + one_line(text) + "\n"); }

Status KtapStream::result(std::uint32_t number, const CheckResult& r) { return out_.append(ktap_line(number, r)); }

}  // namespace lu::stages
