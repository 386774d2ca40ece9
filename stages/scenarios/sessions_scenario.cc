// Several sessions, some empty: each must come back under its own name.
#include "base/memfd.h"
#include "stages/scenarios/scenarios.h"

namespace lu::stages {
namespace {

constexpr int kSessions = 4;  // even ones empty

class SessionsScenario final : public Scenario {
 public:
  std::string name() const override { return "sessions"; }
  std::vector<CheckInfo> checks() const override {
    return {{"sessions.get-name", "each retrieved session reports its own name (SESSION_GET_NAME, 7.2+)"}};
  }

  Status pre(PreContext& ctx) override {
    if (!ctx.luo_available()) return {};
    for (int i = 0; i < kSessions; ++i) {
      auto* s = LU_TRY(ctx.create_session(name(), std::to_string(i)));
      if (i % 2 == 0) continue;
      std::vector<std::uint8_t> content(64, static_cast<std::uint8_t>(i));
      auto memfd = LU_TRY(create_memfd("lu-test-session", content));
      LU_TRY_VOID(s->preserve_fd(memfd.get(), 1));
      ctx.record_file(*s, {1, "memfd", "session-marker", content.size(), 0});
    }
    return {};
  }

  void post(PostContext& ctx) override {
    int checked = 0, good = 0;
    bool unsupported = false;
    std::string problem;
    for (auto& rec : ctx.state().sessions) {
      if (rec.scenario != name()) continue;
      ++checked;
      auto s = ctx.session(rec.name);
      if (!s) {
        if (problem.empty()) problem = s.error().message();
        continue;
      }
      auto got = (*s)->get_name();
      if (!got) {
        if (problem.empty()) problem = got.error().message();
      } else if (!*got) {
        unsupported = true;
      } else if (**got == rec.name) {
        ++good;
      } else if (problem.empty()) {
        problem = "session " + rec.name + " calls itself " + **got;
      }
    }
    if (unsupported) {
      ctx.report({"sessions.get-name", Outcome::kSkip, "this kernel has no SESSION_GET_NAME (added in 7.2)", {}});
      return;
    }
    auto r = ctx.judge()("sessions.get-name", Capability::kSessions, checked > 0 && good == checked,
                   checked == 0 ? "no sessions were armed (LUO unavailable in the pre stage)" : problem);
    r.facts.push_back({"named", std::to_string(good) + "/" + std::to_string(checked)});
    ctx.report(std::move(r));
  }
};

}  // namespace

std::unique_ptr<Scenario> make_sessions_scenario() { return std::make_unique<SessionsScenario>(); }

}  // namespace lu::stages
