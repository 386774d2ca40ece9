#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/clock.h"
#include "base/files.h"
#include "state/store.h"
#include "stages/engine.h"
#include "stages/ktap.h"

namespace lu::stages {
namespace {

struct LoadedState {
  state::RunState state;
  bool from_luo = false;
  std::string luo_problem;  // why the LUO copy was not used
};

// The state session is the primary store; the file is the fallback that still lets the post
// stage say what went wrong when LUO lost everything.
Result<LoadedState> load_state(luo::Device* luo, const Paths& paths,
                               std::unique_ptr<luo::Session>& state_session) {
  LoadedState loaded;
  if (luo) {
    auto s = luo->retrieve_session(state::kStateSessionName);
    if (s) {
      state_session = std::move(*s);
      auto st = state::load_from_session(*state_session);
      if (st) {
        loaded.state = std::move(*st);
        loaded.from_luo = true;
        return loaded;
      }
      if (st.error().kind == ErrorKind::kCorruptState || st.error().kind == ErrorKind::kIncompatibleState)
        return fail(st.error());
      loaded.luo_problem = st.error().message();
    } else {
      loaded.luo_problem = s.error().message();
    }
  } else {
    loaded.luo_problem = "LUO is not available on this kernel";
  }
  auto file = state::FileStore(paths.state_file()).load();
  if (!file) {
    if (file.error().kind == ErrorKind::kNoState)
      return fail(ErrorKind::kStageMismatch, "stage post", paths.state_file(),
                  "no armed run: neither an incoming lu-test state session nor a state file; this boot does not "
                  "follow `lu-test stage pre` (run that first)");
    return fail(file.error());
  }
  loaded.state = std::move(*file);
  return loaded;
}

CheckResult nonce_check(const BootFacts& facts, const state::RunState& st, const std::string& expect) {
  std::string found = cmdline_value(facts.cmdline, kNonceKey);
  CheckResult r{"kexec.nonce", Outcome::kPass, "", {}};
  r.facts = {{"expected", expect}, {"found", found.empty() ? "(absent)" : found},
             {"kernel_before", st.kernel_release_before}, {"kernel_after", facts.kernel_release},
             {"boot_id_before", st.boot_id_before}, {"boot_id_after", facts.boot_id}};
  if (found == expect) return r;
  r.outcome = Outcome::kFail;
  r.diagnosis = found.empty() ? "this boot is not the kexec that was armed: the nonce is absent from the command line; "
                                "the machine probably fell back to a firmware reboot"
                              : "this boot carries nonce " + found + ", not " + expect +
                                    ": it is the kexec of another iteration or run";
  return r;
}

}  // namespace

Outcome Verdict::overall() const {
  if (failed) return Outcome::kFail;
  if (errors) return Outcome::kError;
  if (passed == 0 && xfailed == 0 && skipped > 0) return Outcome::kSkip;
  return Outcome::kPass;
}

Result<Verdict> stage_post(Machine& machine, const Paths& paths, const PostRequest& request) {
  auto facts = LU_TRY(machine.boot_facts());
  std::unique_ptr<luo::Device> luo;
  if (auto dev = machine.luo().open()) luo = std::move(*dev);
  else if (dev.error().kind != ErrorKind::kUnavailable) return fail(dev.error());

  std::unique_ptr<luo::Session> state_session;
  auto loaded = LU_TRY(load_state(luo.get(), paths, state_session));
  const state::RunState& st = loaded.state;
  Verdict verdict;
  verdict.ktap_path = st.ktap_path.empty() ? paths.ktap_file() : st.ktap_path;
  auto ktap = LU_TRY(KtapStream::resume(verdict.ktap_path));
  std::int64_t post_started = realtime_ns();

  PostContext ctx(machine, luo.get(), st);
  const std::string expect = request.expect_nonce.empty() ? st.nonce : request.expect_nonce;
  bool same_boot = !loaded.from_luo && facts.boot_id == st.boot_id_before;

  ctx.report(nonce_check(facts, st, expect));
  if (same_boot) {
    // Still the boot that armed the run: the kexec was refused or never issued. Touch nothing,
    // so `lu-test kexec` can still go ahead with everything held.
    auto& r = ctx.results().back();
    r.outcome = Outcome::kFail;
    r.diagnosis = "this is still the boot that armed the run (boot id unchanged): the kexec was refused or never ran; "
                  "`lu-test status` shows the holder, `lu-test kexec` retries";
    for (std::size_t i = 1; i < st.planned_checks.size(); ++i)
      ctx.report({st.planned_checks[i], Outcome::kSkip, "not run: no kexec happened", {}});
  } else {
    CheckResult sr{"state.retrieved", Outcome::kPass, "", {}};
    if (!loaded.from_luo) {
      sr = judge("state.retrieved", ctx.profile(), Capability::kSessions, false,
                 "the state session did not survive the kexec (" + loaded.luo_problem +
                     "); the state came from " + paths.state_file() +
                     ". Was the holder alive at the kexec syscall? (`lu-test status` before `kexec -e`)");
    }
    ctx.report(std::move(sr));

    std::size_t got = 0;
    std::string problem;
    for (auto& rec : st.sessions) {
      auto s = ctx.session(rec.name);
      if (s) ++got;
      else if (problem.empty()) problem = s.error().message();
    }
    auto rr = judge("sessions.retrieved", ctx.profile(), Capability::kSessions,
                    !st.sessions.empty() && got == st.sessions.size(),
                    st.sessions.empty() ? "no sessions were armed (LUO unavailable in the pre stage)" : problem);
    rr.facts.push_back({"retrieved", std::to_string(got) + "/" + std::to_string(st.sessions.size())});
    ctx.report(std::move(rr));

    // The plan written by the pre stage says which scenarios ran: exactly those check now.
    auto planned = [&](const CheckInfo& c) {
      return std::find(st.planned_checks.begin(), st.planned_checks.end(), c.name) != st.planned_checks.end();
    };
    for (auto& s : all_scenarios()) {
      auto checks = s->checks();
      if (std::any_of(checks.begin(), checks.end(), planned)) s->post(ctx);
    }

    // FINISH: scenario sessions in retrieval order, lu-test's state session last, then close.
    std::string finish_problem;
    std::size_t finished = 0, total = ctx.retrieved().size() + (state_session ? 1 : 0);
    for (auto& s : ctx.retrieved()) {
      if (auto f = s->finish(); f) ++finished;
      else if (finish_problem.empty()) finish_problem = f.error().message();
    }
    if (state_session) {
      if (auto f = state_session->finish(); f) ++finished;
      else if (finish_problem.empty()) finish_problem = f.error().message();
    }
    auto fr = judge("finish.order", ctx.profile(), Capability::kSessions, total > 0 && finished == total,
                    total == 0 ? "no sessions to finish" : finish_problem);
    fr.facts.push_back({"finished", std::to_string(finished) + "/" + std::to_string(total)});
    ctx.report(std::move(fr));
    ctx.retrieved().clear();
    state_session.reset();

    // Leftovers: nothing finished may be handed out again, nothing of the last iteration remains.
    std::string leftover;
    std::size_t probed = 0;
    if (luo) {
      std::vector<std::string> names = st.previous_sessions;
      for (auto& rec : st.sessions) names.push_back(rec.name);
      if (loaded.from_luo) names.push_back(state::kStateSessionName);
      for (auto& name : names) {
        ++probed;
        if (auto again = luo->retrieve_session(name); again) {
          leftover += (leftover.empty() ? "" : ", ") + name;
          (void)(*again)->finish();
        }
      }
    }
    auto lr = judge("sessions.no-leftover", ctx.profile(), Capability::kSessions, luo && leftover.empty(),
                    leftover.empty() ? (luo ? "" : "LUO is not available on this kernel")
                                     : "still retrievable after FINISH: " + leftover);
    lr.facts.push_back({"probed", std::to_string(probed)});
    ctx.report(std::move(lr));
  }

  // Number the results by the plan; anything planned but not reported is an ERROR.
  for (std::size_t i = 0; i < st.planned_checks.size(); ++i) {
    const auto& name = st.planned_checks[i];
    CheckResult r{name, Outcome::kError, "the check did not report (a scenario is missing from this build)", {}};
    for (auto& got : ctx.results())
      if (got.name == name) r = got;
    verdict.results.push_back({static_cast<std::uint32_t>(st.ktap_next + i), r});
    switch (r.outcome) {
      case Outcome::kPass: ++verdict.passed; break;
      case Outcome::kFail: ++verdict.failed; break;
      case Outcome::kError: ++verdict.errors; break;
      case Outcome::kSkip: ++verdict.skipped; break;
      case Outcome::kXfail: ++verdict.xfailed; break;
    }
  }
  std::int64_t now = realtime_ns();
  LU_TRY_VOID(ktap.diagnostic("post: kernel " + facts.kernel_release + " boot_id " + facts.boot_id +
                              " state from " + (loaded.from_luo ? "LUO" : paths.state_file())));
  if (st.pre_finished_ns > 0 && !same_boot)
    LU_TRY_VOID(ktap.diagnostic("timing: pre_ms=" + std::to_string((st.pre_finished_ns - st.pre_started_ns) / 1000000) +
                                " pre_end_to_post_ms=" + std::to_string((post_started - st.pre_finished_ns) / 1000000) +
                                " post_ms=" + std::to_string((now - post_started) / 1000000)));
  for (auto& [n, r] : verdict.results) LU_TRY_VOID(ktap.result(n, r));
  LU_TRY_VOID(ktap.diagnostic("Totals: pass:" + std::to_string(verdict.passed) + " fail:" + std::to_string(verdict.failed) +
                              " xfail:" + std::to_string(verdict.xfailed) + " xpass:0 skip:" +
                              std::to_string(verdict.skipped) + " error:" + std::to_string(verdict.errors)));
  LU_TRY_VOID(ktap.diagnostic(std::string("lu-test verdict: ") + outcome_name(verdict.overall())));
  LU_TRY_VOID(ktap.sync());
  if (!same_boot) {
    // This iteration is done: keep it as the previous one (the next pre stage reads its names).
    if (::rename(paths.state_file().c_str(), paths.last_state_file().c_str()) != 0 && errno != ENOENT)
      return fail(ErrorKind::kSystem, "rename", paths.state_file(), "could not retire the finished state", errno);
  }
  return verdict;
}

}  // namespace lu::stages
