#include "stages/scenario.h"

namespace lu::stages {

Result<luo::Session*> PreContext::create_session(const std::string& scenario, const std::string& suffix) {
  if (!luo_)
    return fail(ErrorKind::kUnavailable, "create session", scenario, "LUO is not available on this kernel");
  std::string name = "lut." + state_.run_id.substr(0, 8) + "." + std::to_string(state_.iteration) + "." + scenario +
                     "." + suffix;
  auto session = LU_TRY(luo_->create_session(name));
  state_.sessions.push_back(state::SessionRecord{name, scenario, {}});
  sessions_.push_back(std::move(session));
  return sessions_.back().get();
}

void PreContext::record_file(luo::Session& session, state::FileRecord file) {
  for (auto& s : state_.sessions)
    if (s.name == session.name()) s.files.push_back(std::move(file));
}

void PostContext::report(CheckResult result) {
  if (sink_) sink_(result);
  results_.push_back(std::move(result));
}

std::vector<std::string> Scenario::plan(const StageOptions&) const {
  std::vector<std::string> out;
  for (auto& c : checks()) out.push_back(c.name);
  return out;
}

Result<luo::Session*> PostContext::session(const std::string& name) {
  for (auto& s : order_)
    if (s->name() == name) return s.get();
  if (auto it = failed_.find(name); it != failed_.end()) return fail(it->second);
  if (!luo_)
    return fail(ErrorKind::kUnavailable, "retrieve session", name, "LUO is not available on this kernel");
  auto s = luo_->retrieve_session(name);
  if (!s) {
    failed_.emplace(name, s.error());
    return fail(s.error());
  }
  order_.push_back(std::move(*s));
  return order_.back().get();
}

void PostContext::adopt(std::unique_ptr<luo::Session> session) { order_.push_back(std::move(session)); }

}  // namespace lu::stages
