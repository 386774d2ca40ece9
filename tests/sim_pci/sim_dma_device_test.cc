// The simulated DMA device: DMA runs only with bus mastering on, the data arrives, every fault
// method is observable, and reset/freeze behave as the kernel profiles need.
#include "sim/pci/sim_dma_device.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/memfd.h"
#include "vfio/config_space.h"
#include "vfio/drivers/simdma/regs.h"
#include "vfio/verify.h"

namespace lu::sim::pci {
namespace {

using namespace std::chrono_literals;
namespace regs = lu::vfio::simdma;
namespace cfg = lu::vfio::pci;

#define LU_ASSERT_OK(expr)                                            \
  do {                                                                \
    auto lu_ok_ = (expr);                                             \
    ASSERT_TRUE(lu_ok_) << #expr << ": " << lu_ok_.error().message(); \
  } while (0)

constexpr std::uint64_t kSize = 64 * 1024;
constexpr std::uint64_t kSrc = 0x100000, kDst = 0x200000;

class SimDmaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = create_sized_memfd("sim-pci-test", 2 * kSize);
    ASSERT_TRUE(m) << m.error().message();
    mem = std::move(*m);
    auto map = Mapping::map_shared(mem.get(), 2 * kSize, 0, true, "test");
    ASSERT_TRUE(map) << map.error().message();
    host = std::move(*map);
    for (std::uint64_t i = 0; i < kSize; ++i) host.data()[i] = static_cast<std::uint8_t>(i * 31 + 5);
    LU_ASSERT_OK(dev.map({.iova = kSrc, .size = kSize, .memfd = mem.get(), .offset = 0}));
    LU_ASSERT_OK(dev.map({.iova = kDst, .size = kSize, .memfd = mem.get(), .offset = kSize}));
  }

  void set_bus_master(bool on) {
    std::uint8_t cmd[2];
    ASSERT_TRUE(dev.config_read(cfg::kCommand, cmd));
    cmd[0] = on ? (cmd[0] | 0x06) : (cmd[0] & ~0x04);
    LU_ASSERT_OK(dev.config_write(cfg::kCommand, cmd));
  }
  // Programs and starts a job through BAR0, as the simdma driver does.
  void start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) {
    LU_ASSERT_OK(dev.bar0_write(regs::kRegSrc, 8, src));
    LU_ASSERT_OK(dev.bar0_write(regs::kRegDst, 8, dst));
    LU_ASSERT_OK(dev.bar0_write(regs::kRegSize, 8, size));
    LU_ASSERT_OK(dev.bar0_write(regs::kRegCount, 8, count));
    LU_ASSERT_OK(dev.bar0_write(regs::kRegDoorbell, 4, regs::kDoorbellStart));
  }
  void set_rate(std::uint32_t per_second) { ASSERT_TRUE(dev.bar0_write(regs::kRegRate, 4, per_second)); }
  bool wait_status(std::uint32_t bit, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (dev.status() & bit) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
  std::span<const std::uint8_t> src() const { return {host.data(), kSize}; }
  std::span<const std::uint8_t> dst() const { return {host.data() + kSize, kSize}; }

  SimDmaDevice dev;
  MemFd mem;
  Mapping host;
};

// ---- identity and config space ----

TEST_F(SimDmaDeviceTest, ConfigSpaceCarriesIdsClassAndAnMsixThenPcieCapabilityList) {
  auto c = dev.config_snapshot();
  EXPECT_EQ(c[0] | c[1] << 8, regs::kVendorId);
  EXPECT_EQ(c[2] | c[3] << 8, regs::kDeviceId);
  EXPECT_EQ(c[0x09] | c[0x0a] << 8 | c[0x0b] << 16, static_cast<int>(regs::kClassCode));
  EXPECT_TRUE((c[cfg::kStatus] | c[cfg::kStatus + 1] << 8) & cfg::kStatusCapabilityList);
  ASSERT_EQ(c[cfg::kCapabilityPointer], kMsixCapOffset);
  EXPECT_EQ(c[kMsixCapOffset], cfg::kCapIdMsix);
  EXPECT_EQ((c[kMsixCapOffset + 2] | c[kMsixCapOffset + 3] << 8) & cfg::kMsixControlTableSizeMask, regs::kMsixVectors - 1);
  ASSERT_EQ(c[kMsixCapOffset + 1], kPcieCapOffset);
  EXPECT_EQ(c[kPcieCapOffset], cfg::kCapIdPcie);
  EXPECT_EQ(c[kPcieCapOffset + 1], 0) << "end of list";
  EXPECT_EQ(c[cfg::kCommand], 0) << "bus master off at power-on";
}

TEST_F(SimDmaDeviceTest, ReadOnlyBytesIgnoreWritesAndBarSizingReadsBackTheSize) {
  const std::uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff};
  LU_ASSERT_OK(dev.config_write(cfg::kVendorId, junk));
  LU_ASSERT_OK(dev.config_write(cfg::kBar0, junk));
  std::uint8_t ids[4], bar[4];
  LU_ASSERT_OK(dev.config_read(cfg::kVendorId, ids));
  LU_ASSERT_OK(dev.config_read(cfg::kBar0, bar));
  EXPECT_EQ(ids[0] | ids[1] << 8, regs::kVendorId);
  EXPECT_EQ(static_cast<std::uint32_t>(bar[0] | bar[1] << 8 | bar[2] << 16 | bar[3] << 24), 0xfffff004u)
      << "4 KiB, 64-bit memory BAR";
  const std::uint8_t line = 0x0b;
  LU_ASSERT_OK(dev.config_write(cfg::kInterruptLine, {&line, 1}));
  EXPECT_EQ(dev.config_snapshot()[cfg::kInterruptLine], 0x0b) << "interrupt line is writable virtual config";
}

TEST_F(SimDmaDeviceTest, ConfigAccessOutsideFourKibIsInvalid) {
  std::uint8_t buf[8];
  auto st = dev.config_read(4092, buf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().err, EINVAL) << st.error().message();
}

TEST_F(SimDmaDeviceTest, Bar0ExposesTheRegsHeaderLayout) {
  auto id = dev.bar0_read(regs::kRegId, 4);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, regs::kIdValue);
  auto max = dev.bar0_read(regs::kRegMaxSize, 8);
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, regs::kMaxSize);
  LU_ASSERT_OK(dev.bar0_write(regs::kRegScratch, 4, 0x12345678));
  EXPECT_EQ(*dev.bar0_read(regs::kRegScratch, 4), 0x12345678u);
  LU_ASSERT_OK(dev.bar0_write(regs::kRegSrc, 8, 0x1122334455667788ull));
  EXPECT_EQ(*dev.bar0_read(regs::kRegSrc + 4, 4), 0x11223344u) << "64-bit registers split into halves";
  EXPECT_FALSE(dev.bar0_read(2, 4)) << "misaligned";
  EXPECT_FALSE(dev.bar0_read(regs::kBar0Size, 4)) << "outside BAR0";
  EXPECT_FALSE(dev.bar0_read(0, 2)) << "16-bit access";
}

// ---- DMA ----

TEST_F(SimDmaDeviceTest, DmaCopiesTheDataAndCountsProgressWithBusMasterOn) {
  set_bus_master(true);
  start(kSrc, kDst, kSize, 10);
  ASSERT_TRUE(wait_status(regs::kStatusDone, 5s)) << "status " << dev.status();
  EXPECT_EQ(dev.progress(), 10u);
  EXPECT_EQ(*dev.bar0_read(regs::kRegProgress, 8), 10u);
  EXPECT_FALSE(dev.status() & regs::kStatusBusy);
  auto m = vfio::first_mismatch(src(), dst());
  EXPECT_FALSE(m) << "first mismatch at " << m->offset;
}

TEST_F(SimDmaDeviceTest, NoDmaWhileBusMasterIsOffAndItResumesWhenTurnedOn) {
  start(kSrc, kDst, 4096, 5);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(dev.progress(), 0u);
  EXPECT_TRUE(dev.status() & regs::kStatusBusy) << "armed, waiting for bus mastering";
  EXPECT_NE(vfio::first_mismatch(src(), dst()), std::nullopt) << "nothing was written";
  set_bus_master(true);
  EXPECT_EQ(dev.wait_for_progress(5, 5s), 5u);
}

TEST_F(SimDmaDeviceTest, ClearingBusMasterStopsARunningCopy) {
  set_rate(500);
  set_bus_master(true);
  start(kSrc, kDst, 4096, 1000000);
  ASSERT_GE(dev.wait_for_progress(3, 5s), 3u);
  set_bus_master(false);
  std::this_thread::sleep_for(50ms);  // let a copy in flight land
  const auto stopped = dev.progress();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dev.progress(), stopped) << "no progress with bus mastering off";
  set_bus_master(true);
  EXPECT_GT(dev.wait_for_progress(stopped + 2, 5s), stopped);
}

TEST_F(SimDmaDeviceTest, RateLimitsCopiesPerSecond) {
  set_rate(100);
  set_bus_master(true);
  start(kSrc, kDst, 4096, 1000000);
  std::this_thread::sleep_for(300ms);
  const auto p = dev.progress();
  EXPECT_GE(p, 5u) << "starved engine threads under load still make some progress";
  EXPECT_LE(p, 45u) << "about 30 copies in 300 ms at 100/s";
}

TEST_F(SimDmaDeviceTest, UnmappedIovaSetsATranslationErrorWithTheIova) {
  set_bus_master(true);
  start(kSrc, 0x900000, 4096, 1);
  ASSERT_TRUE(wait_status(regs::kStatusError, 5s));
  EXPECT_EQ(regs::status_error(dev.status()), regs::kErrorTranslation);
  EXPECT_EQ(*dev.bar0_read(regs::kRegErrorIova, 8), 0x900000u);
  EXPECT_FALSE(dev.status() & regs::kStatusBusy);
}

TEST_F(SimDmaDeviceTest, BadJobsAreRejectedAtTheDoorbell) {
  start(kSrc, kSrc + 100, 4096, 1);  // overlap
  EXPECT_EQ(regs::status_error(dev.status()), regs::kErrorBadJob);
  start(kSrc, kDst, 0, 1);
  EXPECT_EQ(regs::status_error(dev.status()), regs::kErrorBadJob);
}

TEST_F(SimDmaDeviceTest, StartWhileBusyIsRefusedAndAbortStopsTheJob) {
  start(kSrc, kDst, 4096, 10);  // bus master off: stays busy
  start(kSrc, kDst, 4096, 10);
  EXPECT_EQ(regs::status_error(dev.status()), regs::kErrorBusy);
  LU_ASSERT_OK(dev.bar0_write(regs::kRegDoorbell, 4, regs::kDoorbellAbort));
  EXPECT_EQ(regs::status_error(dev.status()), regs::kErrorAborted);
  EXPECT_FALSE(dev.status() & regs::kStatusBusy);
}

TEST_F(SimDmaDeviceTest, OverlappingMappingsAreRefused) {
  auto st = dev.map({.iova = kSrc + 4096, .size = 4096, .host = host.data()});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().err, EEXIST) << st.error().message();
  LU_ASSERT_OK(dev.unmap(kDst, kSize));
  EXPECT_FALSE(dev.unmap(kDst, kSize)) << "already unmapped";
}

// ---- interrupts ----

TEST_F(SimDmaDeviceTest, MsiTriggerReachesTheSinkOnlyWhileMsixIsEnabled) {
  std::atomic<int> got{-1};
  dev.set_msi_sink([&](unsigned v) { got = static_cast<int>(v); });
  LU_ASSERT_OK(dev.bar0_write(regs::kRegMsiTrigger, 4, 1));
  EXPECT_EQ(got.load(), -1);
  EXPECT_EQ(*dev.bar0_read(regs::kMsixPbaOffset, 4) & 2u, 2u) << "pending bit recorded";
  EXPECT_FALSE(dev.interrupts_enabled());
  LU_ASSERT_OK(dev.enable_msix(2));
  EXPECT_TRUE(dev.interrupts_enabled()) << "a kexec must now be refused";
  LU_ASSERT_OK(dev.bar0_write(regs::kRegMsiTrigger, 4, 1));
  EXPECT_EQ(got.load(), 1);
  EXPECT_EQ(dev.msis_raised(), 1u);
  dev.disable_msix();
  EXPECT_FALSE(dev.interrupts_enabled());
  EXPECT_FALSE(dev.enable_msix(5)) << "only 4 vectors";
}

// ---- reset and freeze ----

TEST_F(SimDmaDeviceTest, ResetStopsDmaClearsBusMasterAndRestoresConfigDefaults) {
  const auto defaults = dev.config_snapshot();
  set_rate(1000);
  set_bus_master(true);
  const std::uint8_t line = 0x0b;
  LU_ASSERT_OK(dev.config_write(cfg::kInterruptLine, {&line, 1}));
  LU_ASSERT_OK(dev.enable_msix(1));
  start(kSrc, kDst, 4096, 1000000);
  ASSERT_GE(dev.wait_for_progress(2, 5s), 2u);
  dev.reset();
  EXPECT_FALSE(dev.bus_master());
  EXPECT_EQ(dev.config_snapshot(), defaults);
  EXPECT_FALSE(dev.interrupts_enabled());
  EXPECT_EQ(dev.status(), 0u);
  EXPECT_EQ(dev.progress(), 0u);
  EXPECT_EQ(*dev.bar0_read(regs::kRegJobs, 8), 0u) << "a reset shows as zero jobs";
  EXPECT_EQ(dev.resets(), 1u);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(dev.progress(), 0u) << "nothing runs after the reset";
}

TEST_F(SimDmaDeviceTest, PcieFlrThroughConfigSpaceResetsTheDevice) {
  set_bus_master(true);
  const std::uint8_t flr[2] = {0x00, 0x80};
  LU_ASSERT_OK(dev.config_write(kPcieDevCtl, flr));
  EXPECT_FALSE(dev.bus_master());
  EXPECT_EQ(dev.resets(), 1u);
  EXPECT_EQ(dev.config_snapshot()[kPcieDevCtl + 1] & 0x80, 0) << "FLR bit reads back 0";
}

TEST_F(SimDmaDeviceTest, FreezeHoldsProgressAndUnfreezeResumesTheSameJob) {
  set_rate(500);
  set_bus_master(true);
  start(kSrc, kDst, 4096, 1000000);
  ASSERT_GE(dev.wait_for_progress(3, 5s), 3u);
  dev.freeze();
  EXPECT_TRUE(dev.frozen());
  std::this_thread::sleep_for(50ms);  // let a copy in flight land
  const auto held = dev.progress();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dev.progress(), held);
  EXPECT_TRUE(dev.bus_master()) << "freeze keeps the config space";
  dev.unfreeze();
  EXPECT_GT(dev.wait_for_progress(held + 2, 5s), held) << "progress continues from where it was";
  EXPECT_EQ(*dev.bar0_read(regs::kRegJobs, 8), 1u) << "the same job";
}

// ---- faults: each must be observable ----

TEST_F(SimDmaDeviceTest, FaultClearBusMasterIsVisibleInConfigAndStopsDma) {
  set_rate(500);
  set_bus_master(true);
  start(kSrc, kDst, 4096, 1000000);
  ASSERT_GE(dev.wait_for_progress(2, 5s), 2u);
  dev.clear_bus_master();
  EXPECT_FALSE(dev.bus_master());
  EXPECT_FALSE(dev.config_snapshot()[cfg::kCommand] & cfg::kCommandBusMaster);
  std::this_thread::sleep_for(50ms);  // let a copy in flight land
  const auto p = dev.progress();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dev.progress(), p);
}

TEST_F(SimDmaDeviceTest, FaultCorruptConfigByteChangesTheSnapshotAtThatOffset) {
  const auto before = dev.config_snapshot();
  dev.corrupt_config_byte(cfg::kInterruptPin);
  const auto after = dev.config_snapshot();
  for (std::size_t i = 0; i < kConfigSize; ++i) {
    if (i == cfg::kInterruptPin) EXPECT_NE(after[i], before[i]);
    else EXPECT_EQ(after[i], before[i]) << "offset " << i;
  }
}

TEST_F(SimDmaDeviceTest, FaultStallDmaKeepsBusyWithoutProgressUntilReset) {
  set_bus_master(true);
  dev.stall_dma();
  start(kSrc, kDst, 4096, 3);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(dev.progress(), 0u);
  EXPECT_TRUE(dev.status() & regs::kStatusBusy) << "a hung device still says busy";
  EXPECT_TRUE(dev.bus_master());
  dev.reset();
  set_bus_master(true);
  start(kSrc, kDst, 4096, 3);
  EXPECT_EQ(dev.wait_for_progress(3, 5s), 3u) << "reset clears the stall";
}

TEST_F(SimDmaDeviceTest, FaultCorruptDestinationSurvivesLaterCopies) {
  set_bus_master(true);
  start(kSrc, kDst, kSize, 3);
  ASSERT_TRUE(wait_status(regs::kStatusDone, 5s));
  ASSERT_FALSE(vfio::first_mismatch(src(), dst()));
  dev.corrupt_destination(1234);
  auto m = vfio::first_mismatch(src(), dst());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->offset, 1234u);
  // A running job keeps writing bad data: the fault does not heal with the next copy.
  dev.reset();
  set_bus_master(true);
  start(kSrc, kDst, kSize, 1000);
  dev.corrupt_destination(99);
  ASSERT_TRUE(wait_status(regs::kStatusDone, 10s));
  m = vfio::first_mismatch(src(), dst());
  ASSERT_TRUE(m) << "the corruption was overwritten by later copies";
  EXPECT_EQ(m->offset, 99u);
}

TEST_F(SimDmaDeviceTest, FaultResetAnywayLooksLikeAResetAndIsCounted) {
  set_bus_master(true);
  dev.reset_anyway();
  EXPECT_FALSE(dev.bus_master());
  EXPECT_EQ(dev.resets(), 1u);
}

TEST(SimDmaDeviceLifetime, DestructorStopsARunningEngine) {
  std::vector<std::uint8_t> mem(2 * 4096);
  auto dev = std::make_unique<SimDmaDevice>(SimDmaOptions{.copies_per_second = 0});
  ASSERT_TRUE(dev->map({.iova = 0x1000, .size = 4096, .host = mem.data()}));
  ASSERT_TRUE(dev->map({.iova = 0x2000, .size = 4096, .host = mem.data() + 4096}));
  const std::uint8_t bm[2] = {0x06, 0x00};
  ASSERT_TRUE(dev->config_write(cfg::kCommand, bm));
  ASSERT_TRUE(dev->bar0_write(regs::kRegSrc, 8, 0x1000));
  ASSERT_TRUE(dev->bar0_write(regs::kRegDst, 8, 0x2000));
  ASSERT_TRUE(dev->bar0_write(regs::kRegSize, 8, 4096));
  ASSERT_TRUE(dev->bar0_write(regs::kRegCount, 8, regs::kMaxCount));
  ASSERT_TRUE(dev->bar0_write(regs::kRegDoorbell, 4, regs::kDoorbellStart));
  dev->wait_for_progress(10, 2s);
  dev.reset();  // must join promptly, with the job still running
  SUCCEED();
}

TEST(SimDmaDeviceOptions, RateOptionIsTheRateRegisterAfterReset) {
  SimDmaDevice dev({.bdf = "0000:00:07.0", .copies_per_second = 250});
  EXPECT_EQ(*dev.bar0_read(regs::kRegRate, 4), 250u);
  EXPECT_EQ(dev.bdf(), "0000:00:07.0");
}

}  // namespace
}  // namespace lu::sim::pci
