#include "stages/post_run.h"

#include <algorithm>

#include "base/clock.h"
#include "base/files.h"
#include "base/parse.h"
#include "state/records.h"

namespace lu::stages {
namespace {

Judge judge_for(const state::RunState& st) {
  Judge j;
  j.profile = parse_profile(st.profile).value_or(Profile::kMemfd);
  j.explicit_profile = st.profile_requested != "auto";
  return j;
}

CheckResult nonce_result(const BootFacts& facts, const state::RunState& st, const std::string& expect) {
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

PostRun::PostRun(Machine& machine, luo::Device* luo, const Paths& paths, const BootFacts& facts, ArmedState& armed,
                 RecordFile& record, std::int64_t started_ns, std::string expect_nonce)
    : machine_(machine), luo_(luo), paths_(paths), facts_(facts), armed_(armed), st_(armed.state), record_(record),
      started_ns_(started_ns), expect_nonce_(expect_nonce.empty() ? armed.state.nonce : std::move(expect_nonce)),
      ctx_(machine, luo, armed.state, judge_for(armed.state), [this](const CheckResult& r) { write(r); }) {}

void PostRun::write(const CheckResult& r) {
  if (write_error_) return;
  if (auto st = record_.write(r); !st) write_error_ = st.error();
}

Result<RunOutcome> PostRun::execute() {
  LU_TRY_VOID(record_.diagnostic("post: kernel " + facts_.kernel_release + " boot_id " + facts_.boot_id +
                                 " state from " + (armed_.from_luo ? "LUO" : paths_.state_file())));
  if (armed_.interrupted()) return close_interrupted();
  check_nonce();
  check_state_retrieved();
  check_sessions_retrieved();
  run_scenarios();
  // Nothing may be FINISHed that the record does not hold yet: FINISH consumes the evidence.
  if (write_error_) return fail(*write_error_);
  LU_TRY_VOID(finish_sessions());
  check_leftovers();
  if (write_error_) return fail(*write_error_);
  LU_TRY_VOID(write_timing());
  RunOutcome verdict = record_.counts().overall();
  LU_TRY_VOID(record_.close(verdict));
  return verdict;
}

void PostRun::check_nonce() {
  ctx_.report(nonce_result(facts_, st_, expect_nonce_));
  if (st_.expected_release.empty()) return;
  bool same = facts_.kernel_release == st_.expected_release;
  ctx_.report({"kexec.kernel", same ? Outcome::kPass : Outcome::kFail,
               same ? "" : "the loop planned kernel " + st_.expected_release + ", this boot runs " + facts_.kernel_release,
               {{"expected", st_.expected_release}, {"found", facts_.kernel_release},
                {"left", st_.kernel_release_before}}});
}

void PostRun::check_state_retrieved() {
  if (armed_.from_luo) return ctx_.report({"state.retrieved", Outcome::kPass, "", {}});
  ctx_.report(ctx_.judge()("state.retrieved", Capability::kSessions, false,
                           "the state session did not survive the kexec (" + armed_.luo_problem +
                               "); the state came from " + paths_.state_file() +
                               ". Was the holder alive at the kexec syscall? (`lu-test status` before `kexec -e`)"));
}

void PostRun::check_sessions_retrieved() {
  std::size_t got = 0;
  std::string problem;
  for (auto& rec : st_.sessions) {
    auto s = ctx_.session(rec.name);
    if (s) ++got;
    else if (problem.empty()) problem = s.error().message();
  }
  auto r = ctx_.judge()("sessions.retrieved", Capability::kSessions, !st_.sessions.empty() && got == st_.sessions.size(),
                        st_.sessions.empty() ? "no sessions were armed (LUO unavailable in the pre stage)" : problem);
  r.facts.push_back({"retrieved", std::to_string(got) + "/" + std::to_string(st_.sessions.size())});
  ctx_.report(std::move(r));
}

// The plan written by the pre stage says which scenarios ran: exactly those check now.
void PostRun::run_scenarios() {
  auto planned = [&](const std::string& name) {
    return std::find(st_.planned_checks.begin(), st_.planned_checks.end(), name) != st_.planned_checks.end();
  };
  for (auto& s : all_scenarios()) {
    bool any = false;
    for (auto& c : s->checks())
      for (auto& p : st_.planned_checks)
        if (p == c.name || p.rfind(c.name + "@", 0) == 0) any = true;
    if (any) s->post(ctx_);
  }
  (void)planned;
}

std::size_t PostRun::sessions_to_finish() const { return st_.sessions.size() + (armed_.from_luo ? 1 : 0); }

// Scenario sessions in retrieval order, lu-test's state session last. Each FINISH is journaled
// (a rerun reports what this attempt committed); one fsync after the loop.
Status PostRun::finish_sessions() {
  std::string problem;
  std::size_t finished = 0, total = ctx_.retrieved().size() + (armed_.state_session ? 1 : 0);
  auto finish = [&](luo::Session& s) {
    if (auto f = s.finish(); f) {
      ++finished;
      (void)armed_.journal->finished(s.name());
    } else if (problem.empty()) {
      problem = f.error().message();
    }
  };
  for (auto& s : ctx_.retrieved()) finish(*s);
  if (armed_.state_session) finish(*armed_.state_session);
  LU_TRY_VOID(armed_.journal->sync());
  auto r = ctx_.judge()("finish.order", Capability::kSessions, total > 0 && finished == total,
                        total == 0 ? "no sessions to finish" : problem);
  r.facts.push_back({"finished", std::to_string(finished) + "/" + std::to_string(total)});
  ctx_.report(std::move(r));
  ctx_.retrieved().clear();
  armed_.state_session.reset();
  return {};
}

// Nothing finished may be handed out again, nothing of the previous iteration may remain.
void PostRun::check_leftovers() {
  std::string leftover;
  std::size_t probed = 0;
  if (luo_) {
    std::vector<std::string> names = st_.previous_sessions;
    for (auto& rec : st_.sessions) names.push_back(rec.name);
    if (armed_.from_luo) names.push_back(state::kStateSessionName);
    for (auto& name : names) {
      ++probed;
      if (auto again = luo_->retrieve_session(name); again) {
        leftover += (leftover.empty() ? "" : ", ") + name;
        (void)(*again)->finish();
      }
    }
  }
  auto r = ctx_.judge()("sessions.no-leftover", Capability::kSessions, luo_ && leftover.empty(),
                        leftover.empty() ? (luo_ ? "" : "LUO is not available on this kernel")
                                         : "still retrievable after FINISH: " + leftover);
  r.facts.push_back({"probed", std::to_string(probed)});
  ctx_.report(std::move(r));
}

// pre: the pre stage's own time; blackout: from the kexec syscall (as the holder recorded it)
// or else from the end of the pre stage, to the start of this post stage; post: this stage.
Status PostRun::write_timing() {
  if (st_.pre_finished_ns <= 0) return {};
  std::int64_t kexec_ns = st_.pre_finished_ns;
  std::string from = "pre_end";
  if (auto text = read_text_file(paths_.kexec_note(st_.iteration, st_.run_id), 64))
    if (auto t = parse_number<std::int64_t>(text->substr(0, text->find('\n'))); t && *t > kexec_ns) {
      kexec_ns = *t;
      from = "kexec_syscall";
    }
  timing_.pre_ms = (st_.pre_finished_ns - st_.pre_started_ns) / 1000000;
  timing_.blackout_ms = (started_ns_ - kexec_ns) / 1000000;
  timing_.post_ms = (realtime_ns() - started_ns_) / 1000000;
  for (auto& r : ctx_.results())
    for (auto& [k, v] : r.facts)
      if (k == "copies_during_gap") timing_.dma_gap_copies += parse_number<std::uint64_t>(v).value_or(0);
  return record_.diagnostic("timing: pre_ms=" + std::to_string(timing_.pre_ms) + " blackout_ms=" +
                            std::to_string(timing_.blackout_ms) + " blackout_from=" + from +
                            " post_ms=" + std::to_string(timing_.post_ms) +
                            " dma_gap_copies=" + std::to_string(timing_.dma_gap_copies));
}

// LUO's copy was consumed by an attempt that died before its verdict. What that attempt wrote
// stands; what it did not write cannot be re-checked, and that is the harness's doing, not the
// kernel's: ERROR, never FAIL.
Result<RunOutcome> PostRun::close_interrupted() {
  const auto& e = armed_.earlier;
  auto before = record_.results();
  std::string summary;
  for (auto& w : before) summary += (summary.empty() ? "" : ", ") + w.name + " " + outcome_name(w.outcome);
  std::size_t total = st_.sessions.size() + 1;
  LU_TRY_VOID(record_.diagnostic("the previous post stage (attempt " + std::to_string(e.attempts - 1) + " on boot " +
                                 e.last_boot_id + ") was interrupted after it consumed LUO's copy of the state; it "
                                 "FINISHed " + std::to_string(e.finished.size()) + " of " + std::to_string(total) +
                                 " sessions; its results so far: " + (summary.empty() ? "none" : summary)));
  if (!record_.has("finish.order")) {
    bool all = e.finished.size() == total;
    CheckResult r{"finish.order", all ? Outcome::kPass : Outcome::kError,
                  all ? "every session was FINISHed by the interrupted attempt (its journal)"
                      : "the interrupted attempt FINISHed " + std::to_string(e.finished.size()) + " of " +
                            std::to_string(total) + " sessions before it died; the rest were finished by its exit",
                  {{"finished", std::to_string(e.finished.size()) + "/" + std::to_string(total)}}};
    LU_TRY_VOID(record_.write(r));
  }
  LU_TRY_VOID(record_.close_remaining(Outcome::kError,
                                      "not re-checked: the previous post stage was interrupted after consuming the "
                                      "evidence (see the diagnostic above); the kernel is not to blame"));
  RunOutcome verdict = record_.counts().overall();
  LU_TRY_VOID(record_.close(verdict));
  return verdict;
}

}  // namespace lu::stages
