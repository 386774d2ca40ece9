// Every fault of the simulated machine makes the check it names report not ok: generated from
// the fault table, so a new fault without a failing check fails here.
#include <gtest/gtest.h>

#include "sim/faults.h"
#include "tests/support/cli_runner.h"

namespace lu::sim {
void PrintTo(const FaultInfo& f, std::ostream* os) { *os << f.name; }
}  // namespace lu::sim

namespace lu::testing {
namespace {

class FaultTest : public ::testing::TestWithParam<sim::FaultInfo> {};

TEST_P(FaultTest, BreaksTheCheckItNames) {
  const auto& f = GetParam();
  SimMachineDir m;
  ASSERT_EQ(m.sim({"sim", "start", "--fault", f.name}).code, 0);
  // Device faults break device checks, which exist only with a device and a profile claiming them.
  std::vector<std::string> pre_args{"stage", "pre"};
  if (f.needs_device) pre_args.insert(pre_args.end(), {"--device", "0000:00:04.0", "--profile", "vfio-full"});
  auto pre = m.sim(pre_args);
  ASSERT_EQ(pre.code, 0) << pre.output;
  // A killed holder cannot run the kexec: the user types `kexec -e` instead, as on a real machine.
  auto kexec = f.fault == sim::Fault::kHolderKilled ? m.sim({"sim", "kexec-e"}) : m.sim({"kexec"});
  if (f.fault == sim::Fault::kFreezeRefused) {
    EXPECT_EQ(kexec.code, 75) << kexec.output;
    EXPECT_NE(kexec.output.find("errno 11"), std::string::npos) << kexec.output;
    EXPECT_NE(kexec.output.find("refused"), std::string::npos) << kexec.output;
    auto status = m.sim({"status"});
    EXPECT_EQ(status.code, 0) << "the holder must survive a refused kexec: " << status.output;
    // No kexec happened: the post stage is refused and writes nothing; the cycle form of this
    // fault (below) is where its verdict comes from.
    EXPECT_EQ(m.sim({"stage", "post"}).code, 76);
    return;
  } else {
    ASSERT_EQ(kexec.code, 0) << kexec.output;
  }
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 1) << post.output;
  EXPECT_TRUE(reports(post, "not ok", f.breaks_check)) << f.name << " should break " << f.breaks_check << "\n"
                                                      << post.output;
}

INSTANTIATE_TEST_SUITE_P(EveryFault, FaultTest, ::testing::ValuesIn(sim::fault_table().begin(), sim::fault_table().end()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// Through `cycle`, every fault reaches a verdict that names its check (a refused freeze: an
// ERROR line per check saying so), and no holder outlives the cycle.
TEST_P(FaultTest, ACycleReachesAVerdictThatNamesTheCheckAndLeavesNoHolder) {
  const auto& f = GetParam();
  SimMachineDir m;
  std::vector<std::string> args{"cycle", "--fault", f.name};
  if (!f.needs_device) args.push_back("--no-devices");
  else args.insert(args.end(), {"--profile", "vfio-full"});
  auto r = m.run_here(args);
  if (f.fault == sim::Fault::kFreezeRefused) {
    EXPECT_EQ(r.code, 75) << r.output;
    EXPECT_TRUE(r.has_line("not ok 1 kexec.nonce # ERROR not run: the kexec did not happen")) << r.output;
    EXPECT_TRUE(r.has_line("# lu-test verdict: ERROR")) << r.output;
  } else {
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_TRUE(reports(r, "not ok", f.breaks_check)) << f.name << "\n" << r.output;
    EXPECT_TRUE(r.has_line("# lu-test verdict: FAIL")) << r.output;
  }
  EXPECT_TRUE(no_process_left_within(5000)) << "a holder, guardian or simulator outlived the cycle";
}

TEST(FaultTest, RefusedKexecCanBeRetriedAndThenPasses) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"sim", "start", "--fault", "freeze-refused"}).code, 0);
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  EXPECT_EQ(m.sim({"kexec"}).code, 75);
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 0) << post.output;
}

TEST(FaultTest, UnknownFaultIsAUsageError) {
  SimMachineDir m;
  auto r = m.sim({"sim", "start", "--fault", "no-such-fault"});
  EXPECT_EQ(r.code, 64) << r.output;
  EXPECT_NE(r.output.find("lu-test list"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lu::testing
