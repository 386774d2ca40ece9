// What a loop does after an iteration: continue with the next one, or stop, and why. Pure:
// the plan, the ledger so far (the iteration just recorded included) and the time.
#pragma once

#include <cstdint>
#include <string>

#include "stages/loop/loop_records.h"

namespace lu::stages::loop {

struct Decision {
  bool go_on = false;
  std::string reason;           // "stop: ..." or "continue: ..."
  std::uint32_t next_index = 0;  // when going on
  std::size_t next_kernel = 0;   // index into plan.kernels
};

Decision decide(const LoopPlan& plan, const LoopLedger& ledger, std::int64_t now_ns);

// Verdicts that count against --stop-on and --max-consecutive-failures.
bool is_failure(const std::string& verdict);
bool is_harness_failure(const std::string& verdict);  // ERROR or MISS: the test itself could not run

std::int64_t estimated_ns_left(const LoopPlan& plan, const LoopLedger& ledger, std::int64_t now_ns);

}  // namespace lu::stages::loop
