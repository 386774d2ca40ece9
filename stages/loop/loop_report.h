// The morning report of a loop: per-iteration verdicts, stage times, blackout and DMA progress
// during it, kernels; totals; p50/p95/max of the blackout. As JSON for scripts and as one
// self-contained HTML page (inline SVG, no network) for a lab engineer's look.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "stages/loop/loop_records.h"

namespace lu::stages::loop {

struct Summary {
  std::size_t iterations = 0, pass = 0, fail = 0, error = 0, skip = 0, miss = 0;
  std::int64_t blackout_p50 = -1, blackout_p95 = -1, blackout_max = -1;  // ms, over measured iterations
  std::string verdict;  // FAIL if any FAIL, else ERROR, else MISS, else PASS (SKIP when nothing was tested)
};

Summary summarize(const LoopLedger& ledger);
nlohmann::json loop_json(const LoopPlan& plan, const LoopLedger& ledger);
std::string loop_html(const LoopPlan& plan, const LoopLedger& ledger);

}  // namespace lu::stages::loop
