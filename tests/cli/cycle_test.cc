// Whole cycles on the simulated machine, through the real binary and separate processes.
#include <gtest/gtest.h>

#include "tests/support/cli_runner.h"

namespace lu::testing {
namespace {

const char* kAllChecks[] = {"kexec.nonce",     "state.retrieved", "sessions.retrieved", "memfd.retrieved",
                            "memfd.content",   "sessions.get-name", "finish.order",     "sessions.no-leftover"};

TEST(SimCycle, OneCommandCyclePassesEveryCheck) {
  auto r = SimMachineDir::run({"cycle"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(r.has_line("KTAP version 1")) << r.output;
  EXPECT_TRUE(r.has_line("1..8")) << r.output;
  for (auto* check : kAllChecks) EXPECT_TRUE(reports(r, "ok", check)) << check << "\n" << r.output;
  EXPECT_TRUE(r.has_line("# lu-test verdict: PASS")) << r.output;
}

TEST(SimCycle, ThreeSeparateCommandsGiveTheSameVerdictAndStatusShowsTheHolder) {
  SimMachineDir m;
  auto pre = m.sim({"stage", "pre"});
  ASSERT_EQ(pre.code, 0) << pre.output;
  auto status = m.sim({"status"});
  EXPECT_EQ(status.code, 0) << status.output;
  EXPECT_NE(status.output.find("session lu-test.state"), std::string::npos) << status.output;
  auto json = m.sim({"status", "--json"});
  EXPECT_NE(json.output.find("\"held\""), std::string::npos) << json.output;
  auto kexec = m.sim({"kexec"});
  ASSERT_EQ(kexec.code, 0) << kexec.output;
  auto gone = m.sim({"status"});
  EXPECT_NE(gone.code, 0) << "the holder must be gone after the kexec: " << gone.output;
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 0) << post.output;
  for (auto* check : kAllChecks) EXPECT_TRUE(reports(post, "ok", check)) << check << "\n" << post.output;
}

TEST(SimCycle, ReportTurnsTheKtapStreamIntoJunitAndJson) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto armed = m.sim({"report", "--junit", "-"});
  EXPECT_EQ(armed.code, 0) << armed.output;
  EXPECT_NE(armed.output.find("MISS"), std::string::npos) << "before the post stage every check is missing";
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  ASSERT_EQ(m.sim({"stage", "post"}).code, 0);
  auto junit = m.sim({"report", "--junit", "-"});
  EXPECT_EQ(junit.code, 0) << junit.output;
  EXPECT_NE(junit.output.find("tests=\"8\" failures=\"0\" errors=\"0\""), std::string::npos) << junit.output;
  EXPECT_NE(junit.output.find("name=\"memfd.content\""), std::string::npos) << junit.output;
  auto json = m.sim({"report", "--json"});
  EXPECT_NE(json.output.find("\"verdict\": \"PASS\""), std::string::npos) << json.output;
}

TEST(SimCycle, KexecTypedByTheUserWorksWhileTheHolderKeepsTheFds) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto e = m.sim({"sim", "kexec-e"});
  ASSERT_EQ(e.code, 0) << e.output;
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 0) << post.output;
  EXPECT_TRUE(reports(post, "ok", "memfd.content")) << post.output;
}

TEST(SimCycle, SecondIterationFindsNoLeftoversOfTheFirst) {
  SimMachineDir m;
  for (int i = 1; i <= 2; ++i) {
    ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
    ASSERT_EQ(m.sim({"kexec"}).code, 0);
    auto post = m.sim({"stage", "post"});
    ASSERT_EQ(post.code, 0) << post.output;
    EXPECT_NE(post.output.find("iteration " + std::to_string(i)), std::string::npos) << post.output;
  }
}

TEST(SimCycle, CancelReleasesTheHolderAndUnloadsTheKernel) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto c = m.sim({"cancel"});
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_NE(m.sim({"status"}).code, 0);
  auto e = m.sim({"sim", "kexec-e"});
  EXPECT_EQ(e.code, 66) << "nothing is armed any more: " << e.output;
  auto again = m.sim({"stage", "pre"});
  EXPECT_EQ(again.code, 0) << "cancel leaves the machine ready for a new run: " << again.output;
}

TEST(SimCycle, PreTwiceIsAStageMismatch) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto again = m.sim({"stage", "pre"});
  EXPECT_EQ(again.code, 76) << again.output;
  EXPECT_NE(again.output.find("lu-test kexec"), std::string::npos) << again.output;
}

TEST(SimCycle, PostWithoutAnArmedRunIsAStageMismatch) {
  SimMachineDir m;
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 76) << post.output;
  EXPECT_NE(post.output.find("stage pre"), std::string::npos) << post.output;
}

TEST(SimCycle, WrongNonceIsReportedAsNotTheArmedKexec) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  auto post = m.sim({"stage", "post", "--expect-nonce", "0000000000000000"});
  EXPECT_EQ(post.code, 1) << post.output;
  EXPECT_TRUE(reports(post, "not ok", "kexec.nonce")) << post.output;
  EXPECT_TRUE(reports(post, "ok", "memfd.content")) << post.output;
}

TEST(SimCycle, DebugFlipMemfdByteBreaksTheContentCheck) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto flip = m.sim({"debug", "flip-memfd-byte"});
  ASSERT_EQ(flip.code, 0) << flip.output;
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 1) << post.output;
  EXPECT_TRUE(reports(post, "not ok", "memfd.content")) << post.output;
  EXPECT_TRUE(reports(post, "ok", "memfd.retrieved")) << post.output;
}

TEST(SimCycle, ProfileNoneOnAKernelWithoutLuoReportsExpectedFailures) {
  auto r = SimMachineDir::run({"cycle", "--profile", "none"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(reports(r, "ok", "kexec.nonce")) << r.output;
  EXPECT_NE(r.output.find("memfd.content # XFAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("state.retrieved # XFAIL"), std::string::npos) << r.output;
}

TEST(SimCycle, ProfileClaimingLuoOnAKernelWithoutItIsRefusedBeforeArming) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"sim", "start", "--sim-kernel-profile", "none"}).code, 0);
  auto pre = m.sim({"stage", "pre", "--profile", "memfd"});
  EXPECT_EQ(pre.code, 69) << pre.output;
  EXPECT_NE(pre.output.find("liveupdate=on"), std::string::npos) << pre.output;
  EXPECT_NE(pre.output.find("--profile none"), std::string::npos) << pre.output;
  EXPECT_NE(m.sim({"status"}).code, 0) << "nothing may be armed";
}

TEST(KernelBackend, ThisHostsKernelWithoutLuoIsRefusedBeforeAnythingIsArmed) {
  // Safe on a developer machine: the refusal comes before kexec-tools is ever run.
  if (std::filesystem::exists("/dev/liveupdate")) GTEST_SKIP() << "this kernel has LUO; not arming it here";
  SimMachineDir m;
  auto pre = SimMachineDir::run({"stage", "pre", "--backend", "kernel", "--profile", "memfd", "--run-dir",
                                 m.dir() + "/run", "--state-dir", m.dir() + "/state"});
  EXPECT_EQ(pre.code, 69) << pre.output;
  EXPECT_NE(pre.output.find("LUO is not enabled"), std::string::npos) << pre.output;
  auto post = SimMachineDir::run({"stage", "post", "--backend", "kernel", "--run-dir", m.dir() + "/run",
                                  "--state-dir", m.dir() + "/state"});
  EXPECT_EQ(post.code, 76) << post.output;
}

}  // namespace
}  // namespace lu::testing
