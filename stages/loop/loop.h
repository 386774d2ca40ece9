// Nightly loops (DESIGN.md "Loops"): a plan in the state dir, one ledger entry per iteration,
// and after every iteration the decision: re-arm the next one (its kernel alternating as the
// plan says) or stop. Iteration numbers never restart and nothing is ever truncated.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "machine/machine.h"
#include "stages/engine.h"
#include "stages/loop/loop_records.h"
#include "stages/loop/loop_rules.h"

namespace lu::stages::loop {

struct Step {
  IterationEntry entry;           // the iteration just recorded
  Decision decision;
  std::optional<PreResult> next;  // the iteration armed, when going on
  LoopPlan plan;
  LoopLedger ledger;
};

// Saves the plan, marks the loop active and arms iteration 1. kStageMismatch when a loop is
// active already.
Result<PreResult> start(Machine& machine, const Paths& paths, LoopPlan plan);
// After a post stage: nullopt when its run is not part of the active loop; otherwise the
// iteration is recorded and the next one armed, or the loop ended.
Result<std::optional<Step>> after_post(Machine& machine, const Paths& paths, const Verdict& verdict);
// A boot of an active loop that is not the armed kexec (a firmware reboot, a panic, a post stage
// that never ran): the armed iteration is recorded as MISS, with what is known, and the loop
// goes on or stops by its rules. kNoState when no loop is active.
Result<Step> after_miss(Machine& machine, const Paths& paths, const BootFacts& facts);
// The armed iteration's kexec did not happen (refused, or its holder died before it): the run
// is over all the same, recorded as ERROR with `reason`; then the loop's rules decide.
Result<Step> after_failed_kexec(Machine& machine, const Paths& paths, const BootFacts& facts, const std::string& reason);
// No further iteration is armed; the one armed now still gets its verdict.
Status request_stop(const Paths& paths);

// The options of iteration `index` (1-based): the plan's scenario options and its kernel.
PreRequest iteration_request(const LoopPlan& plan, std::uint32_t index);

}  // namespace lu::stages::loop
