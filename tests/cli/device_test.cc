// The device scenario on the simulated machine: one cycle per expectation profile, the BDF
// errors, and the simulated kernel's device rules seen through the Machine seam.
#include <gtest/gtest.h>

#include <cerrno>

#include "base/memfd.h"
#include "sim/client.h"
#include "tests/support/cli_runner.h"
#include "vfio/config_space.h"

namespace lu::testing {
namespace {

const char* kBdf = "0000:00:04.0";
// Every device's checks carry its BDF.
const char* kDeviceChecks[] = {"device.reopen-ebusy@0000:00:04.0", "device.fd-preserved@0000:00:04.0",
                               "device.bus-master@0000:00:04.0",   "device.config-space@0000:00:04.0",
                               "dma.progress@0000:00:04.0",        "dma.data@0000:00:04.0",
                               "dma.fresh-memcpy@0000:00:04.0"};
const char* kContinuityChecks[] = {"device.reopen-ebusy@0000:00:04.0", "device.fd-preserved@0000:00:04.0",
                                   "device.bus-master@0000:00:04.0",   "device.config-space@0000:00:04.0",
                                   "dma.progress@0000:00:04.0",        "dma.data@0000:00:04.0"};
const char* kFresh = "dma.fresh-memcpy@0000:00:04.0";

bool line_with(const CliResult& r, const std::string& check, const std::string& suffix) {
  for (int n = 1; n < 64; ++n)
    if (r.has_line("ok " + std::to_string(n) + " " + check + " # " + suffix)) return true;
  return false;
}

TEST(DeviceCycle, VfioFullPassesEveryDeviceCheck) {
  auto r = SimMachineDir::run({"cycle", "--device", kBdf, "--profile", "vfio-full"});
  EXPECT_EQ(r.code, 0) << r.output;
  for (auto* c : kDeviceChecks) {
    EXPECT_TRUE(reports(r, "ok", c)) << c << "\n" << r.output;
    EXPECT_FALSE(line_with(r, c, "XFAIL") || line_with(r, c, "SKIP")) << c << "\n" << r.output;
  }
  EXPECT_TRUE(reports(r, "ok", "finish.order")) << r.output;
  EXPECT_TRUE(r.has_line("# dma.progress@0000:00:04.0: sample_gap_ms=")) << r.output;
  EXPECT_TRUE(r.has_line("# lu-test verdict: PASS")) << r.output;
}

TEST(DeviceCycle, VfioBaseKeepsTheFdButNotTheDeviceState) {
  auto r = SimMachineDir::run({"cycle", "--device", kBdf, "--profile", "vfio-base"});
  EXPECT_EQ(r.code, 0) << r.output;
  for (auto* c : {"device.reopen-ebusy@0000:00:04.0", "device.fd-preserved@0000:00:04.0", kFresh}) {
    EXPECT_TRUE(reports(r, "ok", c)) << c << "\n" << r.output;
    EXPECT_FALSE(line_with(r, c, "XFAIL")) << c << "\n" << r.output;
  }
  for (auto* c : {"device.bus-master@0000:00:04.0", "device.config-space@0000:00:04.0", "dma.progress@0000:00:04.0",
                  "dma.data@0000:00:04.0"})
    EXPECT_TRUE(line_with(r, c, "XFAIL")) << c << "\n" << r.output;
}

TEST(DeviceCycle, NoneExpectsEveryContinuityCheckToBreakButTheDeviceStillWorks) {
  auto r = SimMachineDir::run({"cycle", "--device", kBdf, "--profile", "none"});
  EXPECT_EQ(r.code, 0) << r.output;
  for (auto* c : kContinuityChecks) EXPECT_TRUE(line_with(r, c, "XFAIL")) << c << "\n" << r.output;
  EXPECT_TRUE(r.has_line(std::string("ok 13 ") + kFresh)) << "re-opened after the kexec, the device copies: " << r.output;
}

TEST(DeviceCycle, MemfdSkipsDeviceChecksWithAReason) {
  auto r = SimMachineDir::run({"cycle", "--device", kBdf, "--profile", "memfd"});
  EXPECT_EQ(r.code, 0) << r.output;
  for (auto* c : kContinuityChecks)
    EXPECT_TRUE(line_with(r, c, "SKIP profile memfd: the kernel preserves memfds only")) << c << "\n" << r.output;
  EXPECT_TRUE(reports(r, "ok", kFresh)) << r.output;
  EXPECT_NE(r.output.find("not preservable"), std::string::npos) << r.output;
  EXPECT_TRUE(reports(r, "ok", "memfd.content")) << r.output;
}

TEST(DeviceCycle, UnknownBdfIsNotFound) {
  auto r = SimMachineDir::run({"cycle", "--device", "0000:99:00.0"});
  EXPECT_EQ(r.code, 68) << r.output;
  EXPECT_NE(r.output.find("no PCI device 0000:99:00.0"), std::string::npos) << r.output;
}

TEST(DeviceCycle, MalformedBdfIsAUsageError) {
  auto r = SimMachineDir::run({"cycle", "--device", "../../etc"});
  EXPECT_EQ(r.code, 64) << r.output;
  EXPECT_NE(r.output.find("DDDD:BB:DD.F"), std::string::npos) << r.output;
}

// The simulated kernel's device rules, through the same Machine seam the stages use.
class SimDeviceRules : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions o;
    o.run_dir = dir_.dir();
    o.binary = LU_TEST_BINARY;
    o.profile = sim::KernelProfile::kVfioFull;
    auto m = sim::connect(o);
    ASSERT_TRUE(m) << m.error().message();
    machine_ = std::move(*m);
  }
  std::unique_ptr<Machine> reconnect() {
    sim::SimOptions o;
    o.run_dir = dir_.dir();
    o.autostart = false;
    return std::move(*sim::connect(o));
  }
  SimMachineDir dir_;
  std::unique_ptr<Machine> machine_;
};

TEST_F(SimDeviceRules, KexecRefusedWhileInterruptsOnAndFinishRefusedUntilRetrievedAndBound) {
  auto dev = machine_->open_vfio_device(kBdf);
  ASSERT_TRUE(dev) << dev.error().message();
  auto luo = machine_->luo().open();
  ASSERT_TRUE(luo) << luo.error().message();
  auto session = (*luo)->create_session("dev");
  ASSERT_TRUE(session);
  auto memfd = create_sized_memfd("dma", 8192);
  ASSERT_TRUE(memfd);
  ASSERT_TRUE((*dev)->dma_map({memfd->get(), 0, 8192, nullptr}, 0x100000));
  ASSERT_TRUE((*session)->preserve_fd(memfd->get(), 1));
  ASSERT_TRUE((*session)->preserve_fd((*dev)->fd(), 2)) << "a device socket is a cdev";
  auto efds = vfio::make_eventfds(1);
  ASSERT_TRUE(efds);
  std::vector<int> raw{(*efds)[0].get()};
  ASSERT_TRUE((*dev)->enable_msix(raw));
  ASSERT_TRUE(machine_->kexec().load({"vmlinuz", "", "console=ttyS0"}));
  auto refused = machine_->kexec().execute();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().err, EBUSY) << refused.error().message();
  ASSERT_TRUE((*dev)->disable_msix());
  ASSERT_TRUE(machine_->kexec().execute());

  auto m = reconnect();
  auto again = m->open_vfio_device(kBdf);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().err, EBUSY);
  auto luo2 = m->luo().open();
  ASSERT_TRUE(luo2);
  auto in = (*luo2)->retrieve_session("dev");
  ASSERT_TRUE(in);
  auto early = (*in)->finish();
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, EBUSY) << "FINISH before the device is retrieved";
  auto fd = (*in)->retrieve_fd(2);
  ASSERT_TRUE(fd) << fd.error().message();
  auto adopted = m->adopt_vfio_device(std::move(*fd).into<VfioDeviceTag>(), kBdf);
  ASSERT_TRUE(adopted);
  auto unbound = (*in)->finish();
  ASSERT_FALSE(unbound);
  EXPECT_EQ(unbound.error().err, EBUSY) << "FINISH before the device has mapped its memory";
  auto mem = (*in)->retrieve_fd(1);
  ASSERT_TRUE(mem);
  (void)(*adopted)->dma_map({mem->get(), 0, 8192, nullptr}, 0x100000);  // kept across: EEXIST is fine
  EXPECT_TRUE((*in)->finish());
  auto bm = vfio::pci::bus_master(**adopted);
  ASSERT_TRUE(bm);
}

TEST_F(SimDeviceRules, MemfdKernelRefusesDevicesWithEnoent) {
  machine_.reset();
  dir_.sim({"sim", "stop"});
  sim::SimOptions o;
  o.run_dir = dir_.dir();
  o.binary = LU_TEST_BINARY;
  o.profile = sim::KernelProfile::kMemfd;
  auto m = sim::connect(o);
  ASSERT_TRUE(m);
  auto dev = (*m)->open_vfio_device(kBdf);
  ASSERT_TRUE(dev);
  auto luo = (*m)->luo().open();
  ASSERT_TRUE(luo);
  auto session = (*luo)->create_session("dev");
  ASSERT_TRUE(session);
  auto st = (*session)->preserve_fd((*dev)->fd(), 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().err, ENOENT);
}

TEST(DeviceCycle, NamingADeviceTwiceIsAUsageError) {
  auto r = SimMachineDir::run({"cycle", "--device", "0000:00:04.0", "--device", "0000:0:4.0"});
  EXPECT_EQ(r.code, 64) << r.output;
}

TEST(DeviceCycle, AutoOnAVfioFullKernelPicksVfioFullNotMemfd) {
  // Finding 1 of issue 7: auto used to resolve to memfd whenever /dev/liveupdate opened.
  auto r = SimMachineDir::run({"cycle", "--device", kBdf});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("profile vfio-full requested auto"), std::string::npos) << r.output;
  for (auto* c : kDeviceChecks) EXPECT_FALSE(line_with(r, c, "SKIP")) << c << "\n" << r.output;
}

TEST(DeviceCycle, AutoOnAVfioBaseKernelSkipsWhatTheKernelLacksInsteadOfExpectingFailures) {
  auto r = SimMachineDir::run({"cycle", "--device", kBdf, "--sim-kernel-profile", "vfio-base"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("profile vfio-base requested auto"), std::string::npos) << r.output;
  EXPECT_TRUE(line_with(r, "device.bus-master@0000:00:04.0", "SKIP the kernel does not preserve bus master")) << r.output;
  EXPECT_EQ(r.output.find("XFAIL"), std::string::npos) << "XFAIL only for a profile the user chose: " << r.output;
  EXPECT_TRUE(reports(r, "ok", "device.fd-preserved@0000:00:04.0")) << r.output;
}

}  // namespace
}  // namespace lu::testing
