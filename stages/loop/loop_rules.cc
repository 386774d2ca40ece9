#include "stages/loop/loop_rules.h"

#include <algorithm>

namespace lu::stages::loop {
namespace {

std::string seconds(std::int64_t ns) { return std::to_string(ns / 1000000000) + " s"; }

std::uint32_t trailing_failures(const LoopLedger& ledger) {
  std::uint32_t n = 0;
  for (auto it = ledger.entries.rbegin(); it != ledger.entries.rend() && is_failure(it->verdict); ++it) ++n;
  return n;
}

}  // namespace

bool is_failure(const std::string& v) { return v == "FAIL" || v == "ERROR" || v == "MISS"; }
bool is_harness_failure(const std::string& v) { return v == "ERROR" || v == "MISS"; }

Decision decide(const LoopPlan& plan, const LoopLedger& ledger, std::int64_t now) {
  Decision d;
  const auto done = static_cast<std::uint32_t>(ledger.entries.size());
  const std::string last = ledger.entries.empty() ? "" : ledger.entries.back().verdict;
  auto stop = [&](std::string why) {
    d.reason = "stop: " + why;
    return d;
  };
  if (plan.stop_requested) return stop("`lu-test loop stop` was requested");
  if (plan.iterations && done >= plan.iterations)
    return stop("the budget of " + std::to_string(plan.iterations) + " iterations is spent");
  if (plan.duration_ns && now - plan.started_ns >= plan.duration_ns)
    return stop("the time budget of " + seconds(plan.duration_ns) + " is spent");
  if (plan.stop_on() == StopOn::kFail && is_failure(last))
    return stop("--stop-on fail: iteration " + std::to_string(done) + " is " + last);
  if (plan.stop_on() == StopOn::kError && is_harness_failure(last))
    return stop("--stop-on error: iteration " + std::to_string(done) + " is " + last);
  if (plan.max_consecutive_failures && trailing_failures(ledger) >= plan.max_consecutive_failures)
    return stop(std::to_string(plan.max_consecutive_failures) + " consecutive iterations failed");
  d.go_on = true;
  d.next_index = done + 1;
  d.next_kernel = plan.kernels.empty() ? 0 : (d.next_index - 1) % plan.kernels.size();
  d.reason = "continue: iteration " + std::to_string(d.next_index) + " armed";
  return d;
}

std::int64_t estimated_ns_left(const LoopPlan& plan, const LoopLedger& ledger, std::int64_t now) {
  std::int64_t by_time = plan.duration_ns ? std::max<std::int64_t>(0, plan.started_ns + plan.duration_ns - now) : -1;
  std::int64_t by_count = -1;
  if (plan.iterations && !ledger.entries.empty()) {
    std::int64_t per = (now - plan.started_ns) / static_cast<std::int64_t>(ledger.entries.size());
    std::int64_t left = plan.iterations > ledger.entries.size() ? plan.iterations - ledger.entries.size() : 0;
    by_count = per * left;
  }
  if (by_time < 0) return by_count;
  if (by_count < 0) return by_time;
  return std::min(by_time, by_count);
}

}  // namespace lu::stages::loop
