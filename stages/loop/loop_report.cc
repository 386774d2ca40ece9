#include "stages/loop/loop_report.h"

#include <algorithm>
#include <vector>

#include "stages/loop/loop_rules.h"

namespace lu::stages::loop {
namespace {

std::int64_t percentile(std::vector<std::int64_t> v, int p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  std::size_t rank = (p * v.size() + 99) / 100;  // nearest rank
  return v[std::max<std::size_t>(rank, 1) - 1];
}

}  // namespace

Summary summarize(const LoopLedger& ledger) {
  Summary s;
  std::vector<std::int64_t> blackouts;
  for (auto& e : ledger.entries) {
    ++s.iterations;
    if (e.verdict == "PASS") ++s.pass;
    else if (e.verdict == "FAIL") ++s.fail;
    else if (e.verdict == "ERROR") ++s.error;
    else if (e.verdict == "SKIP") ++s.skip;
    else ++s.miss;
    if (e.blackout_ms >= 0) blackouts.push_back(e.blackout_ms);
  }
  s.blackout_p50 = percentile(blackouts, 50);
  s.blackout_p95 = percentile(blackouts, 95);
  s.blackout_max = blackouts.empty() ? -1 : *std::max_element(blackouts.begin(), blackouts.end());
  s.verdict = s.fail ? "FAIL" : s.error ? "ERROR" : s.miss ? "MISS" : s.pass ? "PASS" : "SKIP";
  return s;
}

nlohmann::json loop_json(const LoopPlan& plan, const LoopLedger& ledger) {
  auto s = summarize(ledger);
  nlohmann::json iterations = nlohmann::json::array();
  for (auto& e : ledger.entries)
    iterations.push_back({{"index", e.index}, {"iteration", e.iteration}, {"run_id", e.run_id}, {"nonce", e.nonce},
                          {"verdict", e.verdict}, {"kernel_before", e.kernel_before}, {"kernel_after", e.kernel_after},
                          {"expected_release", e.expected_release}, {"boot_id_before", e.boot_before},
                          {"boot_id_after", e.boot_after}, {"pre_ms", e.pre_ms}, {"blackout_ms", e.blackout_ms},
                          {"post_ms", e.post_ms}, {"dma_gap_copies", e.dma_gap_copies}, {"record", e.record},
                          {"note", e.note}, {"decision", e.decision}});
  nlohmann::json kernels = nlohmann::json::array();
  for (auto& k : plan.kernels) kernels.push_back({{"kernel", k.kernel}, {"release", k.release}});
  return {{"schema", "lu-test.loop/1"},
          {"loop_id", plan.loop_id},
          {"verdict", s.verdict},
          {"active", !ledger.ended},
          {"end_reason", ledger.end_reason},
          {"budget", {{"iterations", plan.iterations}, {"duration_s", plan.duration_ns / 1000000000},
                      {"stop_on", stop_on_name(plan.stop_on())},
                      {"max_consecutive_failures", plan.max_consecutive_failures}}},
          {"kernels", kernels},
          {"totals", {{"iterations", s.iterations}, {"pass", s.pass}, {"fail", s.fail}, {"error", s.error},
                      {"skip", s.skip}, {"miss", s.miss}}},
          {"blackout_ms", {{"p50", s.blackout_p50}, {"p95", s.blackout_p95}, {"max", s.blackout_max}}},
          {"iterations", iterations}};
}

}  // namespace lu::stages::loop
