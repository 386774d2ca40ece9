// The loop's decision after each iteration: budgets, stop rules, kernel alternation.
#include <gtest/gtest.h>

#include "stages/loop/loop_report.h"
#include "stages/loop/loop_rules.h"

namespace lu::stages::loop {
namespace {

constexpr std::int64_t kSecond = 1000000000;

LoopPlan plan_of(std::uint32_t iterations) {
  LoopPlan p;
  p.iterations = iterations;
  p.started_ns = 1000 * kSecond;
  p.kernels = {{"A", "", "", "7.3.4"}, {"B", "", "", "7.4.0"}};
  return p;
}

LoopLedger ledger_of(std::initializer_list<const char*> verdicts) {
  LoopLedger l;
  std::uint32_t i = 0;
  for (auto* v : verdicts) {
    IterationEntry e;
    e.index = ++i;
    e.verdict = v;
    e.blackout_ms = 100 * i;
    l.entries.push_back(e);
  }
  return l;
}

TEST(LoopRules, GoesOnUntilTheIterationBudgetIsSpentAndAlternatesKernels) {
  auto p = plan_of(3);
  auto d = decide(p, ledger_of({"PASS"}), p.started_ns + kSecond);
  EXPECT_TRUE(d.go_on);
  EXPECT_EQ(d.next_index, 2u);
  EXPECT_EQ(d.next_kernel, 1u) << "iteration 2 boots B";
  d = decide(p, ledger_of({"PASS", "PASS"}), p.started_ns + kSecond);
  EXPECT_EQ(d.next_kernel, 0u) << "iteration 3 boots A again";
  d = decide(p, ledger_of({"PASS", "PASS", "PASS"}), p.started_ns + kSecond);
  EXPECT_FALSE(d.go_on);
  EXPECT_NE(d.reason.find("budget of 3 iterations"), std::string::npos) << d.reason;
}

TEST(LoopRules, StopsOnTimeWhenTheDurationIsSpent) {
  auto p = plan_of(0);
  p.duration_ns = 60 * kSecond;
  EXPECT_TRUE(decide(p, ledger_of({"PASS"}), p.started_ns + 59 * kSecond).go_on);
  auto d = decide(p, ledger_of({"PASS"}), p.started_ns + 60 * kSecond);
  EXPECT_FALSE(d.go_on);
  EXPECT_NE(d.reason.find("time budget"), std::string::npos) << d.reason;
}

TEST(LoopRules, StopOnFailStopsAtFailErrorAndMissButNotAtSkip) {
  auto p = plan_of(100);
  p.stop_on_rule = static_cast<std::uint8_t>(StopOn::kFail);
  for (auto* v : {"FAIL", "ERROR", "MISS"}) EXPECT_FALSE(decide(p, ledger_of({"PASS", v}), 0).go_on) << v;
  EXPECT_TRUE(decide(p, ledger_of({"PASS", "SKIP"}), 0).go_on);
}

TEST(LoopRules, StopOnErrorStopsOnlyWhenTheHarnessCouldNotTest) {
  auto p = plan_of(100);
  p.stop_on_rule = static_cast<std::uint8_t>(StopOn::kError);
  EXPECT_TRUE(decide(p, ledger_of({"FAIL"}), 0).go_on) << "a continuity FAIL is data: go on";
  EXPECT_FALSE(decide(p, ledger_of({"ERROR"}), 0).go_on);
  EXPECT_FALSE(decide(p, ledger_of({"MISS"}), 0).go_on);
}

TEST(LoopRules, NeverStopsOnVerdictsButConsecutiveFailuresDo) {
  auto p = plan_of(100);
  EXPECT_TRUE(decide(p, ledger_of({"FAIL", "FAIL", "FAIL"}), 0).go_on);
  p.max_consecutive_failures = 3;
  EXPECT_TRUE(decide(p, ledger_of({"FAIL", "PASS", "FAIL", "FAIL"}), 0).go_on) << "only trailing failures count";
  auto d = decide(p, ledger_of({"PASS", "FAIL", "MISS", "ERROR"}), 0);
  EXPECT_FALSE(d.go_on);
  EXPECT_NE(d.reason.find("3 consecutive"), std::string::npos) << d.reason;
}

TEST(LoopRules, AStopRequestWinsOverEverything) {
  auto p = plan_of(100);
  p.stop_requested = true;
  auto d = decide(p, ledger_of({"PASS"}), 0);
  EXPECT_FALSE(d.go_on);
  EXPECT_NE(d.reason.find("loop stop"), std::string::npos);
}

TEST(LoopReport, BlackoutPercentilesAreNearestRankOverMeasuredIterations) {
  auto l = ledger_of({"PASS", "PASS", "FAIL", "PASS", "MISS", "PASS", "PASS", "PASS", "PASS", "PASS"});
  l.entries[4].blackout_ms = -1;  // the MISS measured nothing
  auto s = summarize(l);
  EXPECT_EQ(s.iterations, 10u);
  EXPECT_EQ(s.fail, 1u);
  EXPECT_EQ(s.miss, 1u);
  EXPECT_EQ(s.verdict, "FAIL");
  EXPECT_EQ(s.blackout_max, 1000);
  EXPECT_EQ(s.blackout_p50, 600) << "nearest rank 5 of 100,200,300,400,600,...,1000 (500 was the MISS)";
  EXPECT_EQ(s.blackout_p95, 1000);
}

TEST(LoopReport, HtmlIsSelfContainedWithOneVerdictSquarePerIteration) {
  auto l = ledger_of({"PASS", "FAIL", "MISS"});
  auto html = loop_html(plan_of(3), l);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no fetches: only the SVG namespace";
  EXPECT_EQ(html.find("<script"), std::string::npos);
  std::size_t squares = 0;
  for (auto at = html.find("class=\"verdict\""); at != std::string::npos; at = html.find("class=\"verdict\"", at + 1))
    ++squares;
  EXPECT_EQ(squares, 3u);
  EXPECT_NE(html.find("#d93025"), std::string::npos) << "FAIL is red";
}

}  // namespace
}  // namespace lu::stages::loop
