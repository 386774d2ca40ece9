#include "stages/loop/loop.h"

#include <fstream>

#include "base/clock.h"
#include "base/files.h"
#include "stages/pre_steps.h"
#include "state/store.h"

namespace lu::stages::loop {
namespace {

IterationEntry entry_of(const Verdict& v) {
  IterationEntry e;
  e.index = v.state.loop_index;
  e.iteration = v.state.iteration;
  e.run_id = v.state.run_id;
  e.nonce = v.state.nonce;
  e.verdict = run_outcome_name(v.outcome);
  e.kernel_before = v.state.kernel_release_before;
  e.kernel_after = v.after.kernel_release;
  e.expected_release = v.state.expected_release;
  e.boot_before = v.state.boot_id_before;
  e.boot_after = v.after.boot_id;
  e.pre_ms = v.timing.pre_ms;
  e.blackout_ms = v.timing.blackout_ms;
  e.post_ms = v.timing.post_ms;
  e.dma_gap_copies = v.timing.dma_gap_copies;
  e.record = v.record;
  e.finished_ns = realtime_ns();
  return e;
}

// The last line the iteration's record holds: where a missed iteration stopped.
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

Status end_loop(const LoopFiles& files, LoopLedger& ledger, const std::string& reason) {
  ledger.ended = true;
  ledger.end_reason = reason;
  ledger.ended_ns = realtime_ns();
  LU_TRY_VOID(save_ledger(files, ledger));
  return set_active(files, false);
}

// Records `entry`, decides, and arms the next iteration or ends the loop. An iteration that
// cannot be armed ends the loop too, with the reason: a loop never stops silently.
Result<Step> record_and_decide(Machine& machine, const Paths& paths, LoopPlan plan, IterationEntry entry) {
  LoopFiles files(paths);
  auto ledger = LU_TRY(load_ledger(files));
  Step step;
  step.decision = decide(plan, [&] {
    auto with = ledger;
    with.entries.push_back(entry);
    return with;
  }(), realtime_ns());
  entry.decision = step.decision.reason;
  ledger.entries.push_back(entry);
  LU_TRY_VOID(save_ledger(files, ledger));
  if (step.decision.go_on) {
    auto next = stage_pre(machine, paths, iteration_request(plan, step.decision.next_index));
    if (!next) {
      ledger.entries.back().decision = "stop: iteration " + std::to_string(step.decision.next_index) +
                                       " could not be armed: " + next.error().message();
      LU_TRY_VOID(end_loop(files, ledger, ledger.entries.back().decision));
      return fail(next.error());
    }
    step.next = std::move(*next);
  } else {
    LU_TRY_VOID(end_loop(files, ledger, step.decision.reason));
  }
  step.entry = ledger.entries.back();
  step.plan = std::move(plan);
  step.ledger = std::move(ledger);
  return step;
}

}  // namespace

PreRequest iteration_request(const LoopPlan& plan, std::uint32_t index) {
  PreRequest r;
  r.options.profile = parse_profile(plan.profile).value_or(Profile::kAuto);
  r.options.devices = plan.devices;
  r.options.dma_size = plan.dma_size;
  if (!plan.kernels.empty()) {
    const auto& k = plan.kernels[(index - 1) % plan.kernels.size()];
    r.kernel = k.kernel;
    r.initrd = k.initrd;
    r.append = k.append;
    r.options.expected_release = k.release;
  }
  r.loop_id = plan.loop_id;
  r.loop_index = index;
  return r;
}

Result<PreResult> start(Machine& machine, const Paths& paths, LoopPlan plan) {
  LoopFiles files(paths);
  if (loop_active(files)) {
    auto running = load_plan(files);
    return fail(ErrorKind::kStageMismatch, "loop start", files.dir,
                "loop " + (running ? running->loop_id : std::string("?")) +
                    " is active: `lu-test loop status` shows it, `lu-test loop stop` ends it after its current iteration");
  }
  plan.loop_id = random_hex(6);
  plan.started_ns = realtime_ns();
  for (auto& k : plan.kernels)
    if (k.release.empty() && !k.kernel.empty()) k.release = machine.release_of(k.kernel);
  LU_TRY_VOID(save_plan(files, plan));
  LoopLedger ledger;
  ledger.loop_id = plan.loop_id;
  LU_TRY_VOID(save_ledger(files, ledger));
  auto first = stage_pre(machine, paths, iteration_request(plan, 1));
  if (!first) return fail(first.error());  // nothing armed: the loop never became active
  LU_TRY_VOID(set_active(files, true));
  return first;
}

Result<std::optional<Step>> after_post(Machine& machine, const Paths& paths, const Verdict& verdict) {
  LoopFiles files(paths);
  if (verdict.state.loop_id.empty() || !loop_active(files)) return std::optional<Step>();
  auto plan = LU_TRY(load_plan(files));
  if (plan.loop_id != verdict.state.loop_id) return std::optional<Step>();  // a run of an older loop
  return std::optional<Step>(LU_TRY(record_and_decide(machine, paths, std::move(plan), entry_of(verdict))));
}

namespace {

// An armed iteration that ends without its post stage: closed in its record with `verdict`, and
// entered in the ledger with what is known.
Result<Step> close_without_post(Machine& machine, const Paths& paths, const BootFacts& facts, RunOutcome verdict,
                                const std::string& why) {
  LoopFiles files(paths);
  if (!loop_active(files))
    return fail(ErrorKind::kNoState, "loop resume", files.dir, "no loop is active: `lu-test loop start` begins one");
  auto plan = LU_TRY(load_plan(files));
  IterationEntry e;
  auto armed = state::FileStore(paths.state_file()).load();
  if (armed && armed->loop_id == plan.loop_id) {
    const std::string record = paths.record_file(armed->iteration, armed->run_id);
    e.index = armed->loop_index;
    e.iteration = armed->iteration;
    e.run_id = armed->run_id;
    e.nonce = armed->nonce;
    e.kernel_before = armed->kernel_release_before;
    e.expected_release = armed->expected_release;
    e.boot_before = armed->boot_id_before;
    e.record = record;
    e.note = why + "; the record's last line was: " + last_line(record);
    LU_TRY_VOID(close_armed_iteration(paths, *armed, verdict, Outcome::kError,
                                      std::string(run_outcome_name(verdict)) + ": " + why,
                                      "state." + std::string(verdict == RunOutcome::kMiss ? "miss." : "refused.") +
                                          armed->nonce + ".bin"));
  } else {
    auto ledger = LU_TRY(load_ledger(files));
    e.index = static_cast<std::uint32_t>(ledger.entries.size() + 1);
    e.note = "no iteration of the loop was armed (its arming failed, or the state was lost)";
  }
  e.verdict = run_outcome_name(verdict);
  e.kernel_after = facts.kernel_release;
  e.boot_after = facts.boot_id;
  e.finished_ns = realtime_ns();
  return record_and_decide(machine, paths, std::move(plan), std::move(e));
}

}  // namespace

Result<Step> after_miss(Machine& machine, const Paths& paths, const BootFacts& facts) {
  auto armed = state::FileStore(paths.state_file()).load();
  std::string why = "the post stage never ran: this boot (" + facts.kernel_release + ", boot id " + facts.boot_id +
                    ") carries no nonce" + (armed ? " " + armed->nonce : std::string());
  return close_without_post(machine, paths, facts, RunOutcome::kMiss, why);
}

Result<Step> after_failed_kexec(Machine& machine, const Paths& paths, const BootFacts& facts, const std::string& reason) {
  return close_without_post(machine, paths, facts, RunOutcome::kError, reason);
}

Status request_stop(const Paths& paths) {
  LoopFiles files(paths);
  if (!loop_active(files))
    return fail(ErrorKind::kNoState, "loop stop", files.dir, "no loop is active: nothing to stop");
  auto plan = LU_TRY(load_plan(files));
  plan.stop_requested = true;
  return save_plan(files, plan);
}

}  // namespace lu::stages::loop
