// The DMA driver framework's contract (checked once, in DmaDriver), chunking, the driver table,
// and the simdma and edu drivers end to end against device models.
#include "vfio/driver.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "tests/vfio/assert_ok.h"

#include "base/memfd.h"
#include "sim/pci/local_device.h"
#include "sim/pci/sim_dma_device.h"
#include "vfio/config_space.h"
#include "vfio/drivers/drivers.h"
#include "vfio/drivers/simdma/regs.h"
#include "vfio/verify.h"

namespace lu::vfio {
namespace {

using namespace std::chrono_literals;
using sim::pci::SimDmaDevice;

Deadline in(std::chrono::milliseconds ms) { return std::chrono::steady_clock::now() + ms; }

// ---- a recording driver, to test what the framework passes through ----

struct StartCall {
  std::uint64_t src, dst, size, count;
  bool operator==(const StartCall&) const = default;
};
struct FakeLog {
  std::vector<StartCall> starts;
  int inits = 0, removes = 0, waits = 0;
};
FakeLog* g_log = nullptr;

class RecordingDriver final : public Driver {
 public:
  Status init(const DriverRegion&) override { ++g_log->inits; return {}; }
  void remove() override { ++g_log->removes; }
  std::uint64_t max_memcpy_size() const override { return 4096; }
  std::uint64_t max_memcpy_count() const override { return 100; }
  Status memcpy_start(std::uint64_t s, std::uint64_t d, std::uint64_t n, std::uint64_t c) override {
    g_log->starts.push_back({s, d, n, c});
    return {};
  }
  Status memcpy_wait(Deadline) override { ++g_log->waits; return {}; }
  Status send_msi() override { return {}; }
  Result<std::uint64_t> progress() override { return 0; }
};

constexpr DriverInfo kRecording = {
    "recording", [](PciIds) { return false; }, [](Device&) -> std::unique_ptr<Driver> { return std::make_unique<RecordingDriver>(); },
    32, 4096};

class FrameworkTest : public ::testing::Test {
 protected:
  void SetUp() override { g_log = &log; }
  void TearDown() override { g_log = nullptr; }
  DmaDriver initialised() {
    auto d = DmaDriver::with(*dev, kRecording);
    auto st = d.init({.iova = 0x1000, .host = nullptr, .size = 4096});
    EXPECT_TRUE(st) << st.error().message();
    return d;
  }
  FakeLog log;
  SimDmaDevice sim;
  std::unique_ptr<Device> dev = sim::pci::make_local_device(sim);
};

TEST_F(FrameworkTest, InitTurnsOnBusMasteringBeforeTheDriverRuns) {
  ASSERT_FALSE(sim.bus_master());
  auto d = initialised();
  EXPECT_TRUE(sim.bus_master());
  EXPECT_EQ(log.inits, 1);
}

TEST_F(FrameworkTest, InitRefusesARegionSmallerThanTheDriverNeedsOrAboveTheMask) {
  auto d = DmaDriver::with(*dev, kRecording);
  auto small = d.init({.iova = 0x1000, .size = 100});
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().kind, ErrorKind::kInvalidInput) << small.error().message();
  auto high = d.init({.iova = 1ull << 32, .size = 4096});
  ASSERT_FALSE(high);
  EXPECT_NE(high.error().hint.find("DMA mask"), std::string::npos) << high.error().message();
  EXPECT_EQ(log.inits, 0);
}

TEST_F(FrameworkTest, ContractViolationsNeverReachTheDriver) {
  auto d = initialised();
  struct Row {
    const char* what;
    std::uint64_t src, dst, size, count;
  };
  const Row rows[] = {
      {"zero size", 0x10000, 0x20000, 0, 1},
      {"size above max", 0x10000, 0x20000, 4097, 1},
      {"zero count", 0x10000, 0x20000, 64, 0},
      {"count above max", 0x10000, 0x20000, 64, 101},
      {"overlap", 0x10000, 0x10800, 4096, 1},
      {"source above the 32-bit mask", 0xfffff800, 0x20000, 4096, 1},
      {"destination wraps past the mask", 0x10000, 0xffffffff, 2, 1},
  };
  for (const auto& r : rows) {
    auto st = d.memcpy_start(r.src, r.dst, r.size, r.count);
    ASSERT_FALSE(st) << r.what;
    EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << r.what << ": " << st.error().message();
  }
  EXPECT_TRUE(log.starts.empty());
}

TEST_F(FrameworkTest, SecondStartWhileInFlightIsRefusedUntilWaited) {
  auto d = initialised();
  LU_ASSERT_OK(d.memcpy_start(0x10000, 0x20000, 64, 3));
  auto again = d.memcpy_start(0x10000, 0x20000, 64, 3);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().hint.find("in flight"), std::string::npos) << again.error().message();
  LU_ASSERT_OK(d.memcpy_wait(in(100ms)));
  LU_EXPECT_OK(d.memcpy_start(0x10000, 0x20000, 64, 3));
  EXPECT_EQ(log.starts.size(), 2u);
}

TEST_F(FrameworkTest, MemcpyOfAnySizeIsSplitIntoChunksOfTheDriversMaximum) {
  auto d = initialised();
  LU_ASSERT_OK(d.memcpy(0x100000, 0x200000, 10000, in(100ms)));
  EXPECT_EQ(log.starts, (std::vector<StartCall>{{0x100000, 0x200000, 4096, 1},
                                                {0x101000, 0x201000, 4096, 1},
                                                {0x102000, 0x202000, 1808, 1}}));
  EXPECT_EQ(log.waits, 3);
}

TEST_F(FrameworkTest, OperationsBeforeInitAreInternalErrors) {
  auto d = DmaDriver::with(*dev, kRecording);
  auto st = d.memcpy_start(0x10000, 0x20000, 64, 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kInternal) << st.error().message();
}

TEST_F(FrameworkTest, DestructionLeavesTheDeviceAsItIsSoACopyOutlivesTheProcess) {
  {
    auto d = initialised();
    DmaDriver moved = std::move(d);
  }
  EXPECT_EQ(log.removes, 0);
  EXPECT_TRUE(sim.bus_master()) << "a copy started before a kexec must keep its bus mastering";
}

TEST_F(FrameworkTest, RemoveStopsTheDriverOnceAndClearsBusMastering) {
  auto d = initialised();
  LU_ASSERT_OK(d.remove());
  LU_ASSERT_OK(d.remove());
  EXPECT_EQ(log.removes, 1);
  EXPECT_FALSE(sim.bus_master());
}

TEST_F(FrameworkTest, SendMsiWhileACopyIsInFlightIsRefused) {
  auto d = initialised();
  LU_ASSERT_OK(d.memcpy_start(0x10000, 0x20000, 64, 1));
  auto st = d.send_msi();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << st.error().message();
}

TEST_F(FrameworkTest, DriversWithoutAPaceKnobSayFalse) {
  auto d = initialised();
  auto paced = d.set_pace(100);
  ASSERT_TRUE(paced) << paced.error().message();
  EXPECT_FALSE(*paced);
}

// ---- the table ----

TEST(DriverTable, ProbesEveryDriverByItsIdsAndNothingElse) {
  EXPECT_EQ(find_driver(PciIds{0x1b36, 0x7110}), &drivers::kSimDmaDriver);
  EXPECT_EQ(find_driver(PciIds{0x1234, 0x11e8}), &drivers::kEduDriver);
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x10c9}), &drivers::kIgbDriver);
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x0b25}), &drivers::kDsaDriver);
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x11fb}), &drivers::kDsaDriver);
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x2021}), &drivers::kCbdmaDriver);
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x10d3}), nullptr) << "e1000e is not igb";
  EXPECT_EQ(find_driver(PciIds{0x8086, 0x0b00}), nullptr) << "ICX CBDMA is not claimed: only 3.2/3.3 SKX is known to work";
  EXPECT_EQ(find_driver("edu"), &drivers::kEduDriver);
  EXPECT_EQ(drivers::kEduDriver.dma_mask_bits, 28u) << "edu clamps IOVAs to 256 MiB";
}

TEST(DriverTable, UnknownDeviceIsUnavailableNamingItsIds) {
  SimDmaDevice sim;
  sim.corrupt_config_byte(0);  // vendor 0x1b36 -> 0x1bc9
  auto dev = sim::pci::make_local_device(sim);
  auto d = DmaDriver::probe(*dev);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::kUnavailable) << d.error().message();
  EXPECT_NE(d.error().hint.find("1bc9:7110"), std::string::npos) << d.error().message();
}

// ---- simdma against the simulated device ----

class SimDmaTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kSize = 1 << 20;
  static constexpr std::uint64_t kSrc = 0x100000, kDst = 0x200000;

  void SetUp() override {
    auto m = create_sized_memfd("simdma-test", 2 * kSize);
    ASSERT_TRUE(m) << m.error().message();
    mem = std::move(*m);
    auto map = Mapping::map_shared(mem.get(), 2 * kSize, 0, true, "test");
    ASSERT_TRUE(map) << map.error().message();
    host = std::move(*map);
    for (std::uint64_t i = 0; i < kSize; ++i) host.data()[i] = static_cast<std::uint8_t>(i * 7 + 3);
    LU_ASSERT_OK(dev->dma_map({.memfd = mem.get(), .offset = 0, .size = kSize}, kSrc));
    LU_ASSERT_OK(dev->dma_map({.memfd = mem.get(), .offset = kSize, .size = kSize}, kDst));
    auto d = DmaDriver::probe(*dev);
    ASSERT_TRUE(d) << d.error().message();
    driver.emplace(std::move(*d));
    auto st = driver->init({});
    ASSERT_TRUE(st) << st.error().message();
  }

  std::span<const std::uint8_t> src() const { return {host.data(), kSize}; }
  std::span<const std::uint8_t> dst() const { return {host.data() + kSize, kSize}; }

  SimDmaDevice sim;
  std::unique_ptr<Device> dev = sim::pci::make_local_device(sim);
  MemFd mem;
  Mapping host;
  std::optional<DmaDriver> driver;
};

TEST_F(SimDmaTest, RepeatedCopyCompletesCountsProgressAndCopiesTheData) {
  EXPECT_EQ(driver->info().name, std::string("simdma"));
  LU_ASSERT_OK(driver->memcpy_start(kSrc, kDst, kSize, 20));
  auto st = driver->memcpy_wait(in(5000ms));
  ASSERT_TRUE(st) << st.error().message();
  auto p = driver->progress();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, 20u);
  auto m = first_mismatch(src(), dst());
  EXPECT_FALSE(m) << "first mismatch at " << m->offset;
}

TEST_F(SimDmaTest, StalledDeviceTimesOutWithEtimedoutAndStaysInFlight) {
  sim.stall_dma();
  LU_ASSERT_OK(driver->memcpy_start(kSrc, kDst, 4096, 10));
  auto st = driver->memcpy_wait(in(50ms));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().err, ETIMEDOUT) << st.error().message();
  EXPECT_TRUE(driver->in_flight());
}

TEST_F(SimDmaTest, UnmappedDestinationIsReportedAsATranslationFault) {
  LU_ASSERT_OK(driver->memcpy_start(kSrc, 0x40000000, 4096, 1));
  auto st = driver->memcpy_wait(in(2000ms));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kRefused) << st.error().message();
  EXPECT_NE(st.error().hint.find("translation"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().hint.find(std::to_string(0x40000000)), std::string::npos) << st.error().message();
}

TEST_F(SimDmaTest, SendMsiRaisesVectorZeroOnlyWithMsixEnabled) {
  std::atomic<int> raised{-1};
  sim.set_msi_sink([&](unsigned v) { raised = static_cast<int>(v); });
  LU_ASSERT_OK(driver->send_msi());
  EXPECT_EQ(raised.load(), -1) << "MSI-X is off: the vector is only pending";
  auto fds = make_eventfds(1);
  const int raw[1] = {(*fds)[0].get()};
  LU_ASSERT_OK(dev->enable_msix(raw));
  LU_ASSERT_OK(driver->send_msi());
  EXPECT_EQ(raised.load(), 0);
  EXPECT_TRUE(dev->interrupts_enabled());
  LU_ASSERT_OK(dev->disable_interrupts());
  EXPECT_FALSE(sim.interrupts_enabled());
}

TEST_F(SimDmaTest, InitDoesNotDisturbACopyAlreadyRunning) {
  LU_ASSERT_OK(dev->bar_write32(0, simdma::kRegRate, 200));
  LU_ASSERT_OK(driver->memcpy_start(kSrc, kDst, 4096, 1000000));
  sim.wait_for_progress(2, 2000ms);
  // A second process (the post stage) probes and initialises the same device.
  auto again = DmaDriver::probe(*dev);
  ASSERT_TRUE(again) << again.error().message();
  LU_ASSERT_OK(again->init({}));
  again->assume_in_flight();
  const auto before = sim.progress();
  sim.wait_for_progress(before + 2, 2000ms);
  EXPECT_GT(sim.progress(), before) << "the copy kept running through the second init";
  EXPECT_EQ(simdma::status_error(sim.status()), 0u);
}

// ---- edu against a register-level model of QEMU's edu ----

// Implements edu's DMA registers: a write of the command register with bit 0 performs the
// transfer between "RAM" (IOVA = index into ram) and the 4 KiB buffer at 0x40000 at once.
class FakeEdu final : public Device {
 public:
  std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(1 << 20);
  std::vector<std::uint64_t> commands;
  std::uint16_t command_reg = 0;

  const std::string& bdf() const override { return bdf_; }
  bool is_cdev() const override { return true; }
  int fd() const override { return -1; }
  VfioDeviceFd release_fd() override { return {}; }
  Status config_read(std::uint64_t off, std::span<std::uint8_t> out) override {
    std::uint8_t cfg[64] = {0x34, 0x12, 0xe8, 0x11};
    cfg[4] = static_cast<std::uint8_t>(command_reg);
    cfg[5] = static_cast<std::uint8_t>(command_reg >> 8);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = off + i < 64 ? cfg[off + i] : 0;
    return {};
  }
  Status config_write(std::uint64_t off, std::span<const std::uint8_t> d) override {
    if (off == 4 && d.size() == 2) command_reg = static_cast<std::uint16_t>(d[0] | d[1] << 8);
    return {};
  }
  Result<RegionInfo> region_info(std::uint32_t i) override { return RegionInfo{.index = i, .size = 1 << 20}; }
  Result<std::uint32_t> bar_read32(int, std::uint64_t off) override { return off == 0 ? 0x010000edu : 0u; }
  Status bar_write32(int, std::uint64_t, std::uint32_t) override { return {}; }
  Result<std::uint64_t> bar_read64(int, std::uint64_t off) override { return regs_[off]; }
  Status bar_write64(int, std::uint64_t off, std::uint64_t v) override {
    regs_[off] = v;
    if (off == 0x98 && (v & 1)) {
      commands.push_back(v);
      const std::uint64_t src = regs_[0x80], dst = regs_[0x88], n = regs_[0x90];
      if (v & 2) std::memcpy(&ram[dst], &buffer_[src - 0x40000], n);  // buffer -> RAM
      else std::memcpy(&buffer_[dst - 0x40000], &ram[src], n);        // RAM -> buffer
      regs_[0x98] = v & ~1ull;
    }
    return {};
  }
  Result<std::vector<IovaRange>> iova_ranges() override { return std::vector<IovaRange>{}; }
  Result<MapKind> dma_map(const DmaBuffer&, std::uint64_t) override { return MapKind::kFile; }
  Status dma_unmap(std::uint64_t, std::uint64_t) override { return {}; }
  Result<std::uint32_t> irq_count(IrqKind) override { return 1u; }
  Status enable_irqs(IrqKind, std::span<const int>) override { return {}; }
  Status disable_irqs(IrqKind) override { return {}; }
  bool irqs_enabled(IrqKind) const override { return false; }
  Status reset() override { return {}; }

 private:
  std::string bdf_ = "0000:00:05.0";
  std::map<std::uint64_t, std::uint64_t> regs_;
  std::uint8_t buffer_[4096] = {};
};

TEST(EduDriver, MemcpyGoesThroughTheDeviceBufferInTwoDmasPerChunk) {
  FakeEdu edu;
  for (std::size_t i = 0; i < 10000; ++i) edu.ram[0x10000 + i] = static_cast<std::uint8_t>(i * 13 + 1);
  auto d = DmaDriver::probe(edu);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->info().name, std::string("edu"));
  LU_ASSERT_OK(d->init({}));
  EXPECT_TRUE(edu.command_reg & pci::kCommandBusMaster);
  auto st = d->memcpy(0x10000, 0x30000, 10000, in(5000ms));
  ASSERT_TRUE(st) << st.error().message();
  auto m = first_mismatch({&edu.ram[0x10000], 10000}, {&edu.ram[0x30000], 10000});
  EXPECT_FALSE(m) << "first mismatch at " << m->offset;
  // Five chunks (4 x 2048, 1808: edu copies at most half its buffer, a QEMU 7.2 quirk), each
  // RAM->buffer (cmd 1) then buffer->RAM (cmd 3).
  EXPECT_EQ(edu.commands, (std::vector<std::uint64_t>{1, 3, 1, 3, 1, 3, 1, 3, 1, 3}));
}

TEST(EduDriver, RepeatedCopyCountsProgressFromItsWorkerThread) {
  FakeEdu edu;
  auto d = DmaDriver::probe(edu);
  ASSERT_TRUE(d) << d.error().message();
  LU_ASSERT_OK(d->init({}));
  LU_ASSERT_OK(d->memcpy_start(0x1000, 0x2000, 2048, 25));
  auto st = d->memcpy_wait(in(5000ms));
  ASSERT_TRUE(st) << st.error().message();
  auto p = d->progress();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 25u);
  EXPECT_EQ(edu.commands.size(), 50u);
}

TEST(EduDriver, IovaAbove256MibIsRefusedByTheFramework) {
  FakeEdu edu;
  auto d = DmaDriver::probe(edu);
  ASSERT_TRUE(d);
  LU_ASSERT_OK(d->init({}));
  auto st = d->memcpy_start(0x1000, 1ull << 28, 2048, 1);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().hint.find("DMA mask 0xfffffff"), std::string::npos) << st.error().message();
  EXPECT_TRUE(edu.commands.empty());
}

}  // namespace
}  // namespace lu::vfio
