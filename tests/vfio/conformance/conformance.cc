// The driver conformance suite (conformance.h): the driver contract of vfio/driver.h, checked
// on a real device or a model through the vfio::Device seam only.
#include "tests/vfio/conformance/conformance.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/memfd.h"
#include "vfio/config_space.h"
#include "vfio/driver.h"
#include "vfio/iova_allocator.h"
#include "vfio/verify.h"

namespace lu::vfio::conformance {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

#define LU_CHECK_OK(expr)                                             \
  do {                                                                \
    auto lu_ok_ = (expr);                                             \
    ASSERT_TRUE(lu_ok_) << #expr << ": " << lu_ok_.error().message(); \
  } while (0)

constexpr std::uint64_t kSide = 1 << 20;  // source and destination, 1 MiB each
constexpr std::uint64_t kRegionMax = 256 * 1024;

// Ids of devices each driver in the table handles, and some no lu-test driver does.
constexpr PciIds kKnownIds[] = {{0x1b36, 0x7110}, {0x1234, 0x11e8}, {0x8086, 0x10c9}, {0x8086, 0x0b25},
                                {0x8086, 0x11fb}, {0x8086, 0x1212}, {0x8086, 0x2021}, {0x8086, 0x10d3},
                                {0x10de, 0x1eb8}, {0x1af4, 0x1041}, {0xffff, 0xffff}};

class DriverConformance : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    rig = GetParam().make();
    ASSERT_TRUE(rig);
    if (const DriverInfo* forced = GetParam().force_driver) {
      driver.emplace(DmaDriver::with(dev(), *forced));
    } else {
      auto d = DmaDriver::probe(dev());
      ASSERT_TRUE(d) << d.error().message();
      driver.emplace(std::move(*d));
    }
    region_size = std::max<std::uint64_t>(4096, (driver->info().region_size + 4095) & ~4095ull);
    ASSERT_LE(region_size, kRegionMax);
    total = 2 * kSide + region_size;
    auto m = create_sized_memfd("lu-test-conformance", total);
    ASSERT_TRUE(m) << m.error().message();
    mem = std::move(*m);
    auto map = Mapping::map_shared(mem.get(), total, 0, true, "conformance DMA");
    ASSERT_TRUE(map) << map.error().message();
    host = std::move(*map);
    auto ranges = dev().iova_ranges();
    ASSERT_TRUE(ranges) << ranges.error().message();
    IovaAllocator iovas(*ranges, driver->info().dma_mask_bits);
    auto base = iovas.allocate(total + 2 * kSide, 1 << 21);  // room for an unmapped IOVA after it
    ASSERT_TRUE(base) << base.error().message();
    iova = *base;
    LU_CHECK_OK(dev().dma_map({.memfd = mem.get(), .offset = 0, .size = total, .host = host.data()}, iova));
    mapped = true;
    LU_CHECK_OK(driver->init({.iova = region_iova(), .host = host.data() + 2 * kSide, .size = region_size}));
    copy = std::clamp<std::uint64_t>(4096, driver->min_memcpy_size(), driver->max_memcpy_size());
  }

  void TearDown() override {
    if (driver) (void)driver->remove();
    if (rig) (void)dev().disable_interrupts();
    if (mapped) (void)dev().dma_unmap(iova, total);
  }

  Device& dev() { return rig->device(); }
  std::uint64_t src() const { return iova; }
  std::uint64_t dst() const { return iova + kSide; }
  std::uint64_t region_iova() const { return iova + 2 * kSide; }
  std::uint64_t unmapped() const { return iova + total + kSide; }
  std::span<std::uint8_t> src_bytes(std::uint64_t n) { return {host.data(), n}; }
  std::span<std::uint8_t> dst_bytes(std::uint64_t n) { return {host.data() + kSide, n}; }
  std::uint64_t test_count() const { return std::min(driver->max_memcpy_count(), GetParam().max_test_count); }

  void fill(std::uint64_t n, unsigned seed) {
    for (std::uint64_t i = 0; i < n; ++i) host.data()[i] = static_cast<std::uint8_t>((i * 131 + seed) ^ (i >> 9));
    std::fill_n(host.data() + kSide, n, std::uint8_t{0});
  }
  void expect_copied(std::uint64_t n) {
    auto m = first_mismatch(src_bytes(n), dst_bytes(n));
    EXPECT_FALSE(m) << "first mismatch at byte " << m->offset << ": expected " << int(m->expected) << ", found "
                    << int(m->actual);
  }

  // The advertised vector plus every lower one, each on its own eventfd.
  void enable_interrupts() {
    const auto kind = driver->msi_kind();
    auto n = dev().irq_count(kind);
    ASSERT_TRUE(n) << n.error().message();
    ASSERT_GT(*n, driver->msi_vector()) << "the device offers fewer vectors than the driver advertises";
    auto fds = make_eventfds(driver->msi_vector() + 1);
    ASSERT_TRUE(fds) << fds.error().message();
    eventfds = std::move(*fds);
    std::vector<int> raw;
    for (auto& fd : eventfds) raw.push_back(fd.get());
    LU_CHECK_OK(dev().enable_irqs(kind, raw));
  }
  // Interrupts counted on each vector since the last call (the eventfds are non-blocking).
  std::vector<std::uint64_t> take_interrupts() {
    std::vector<std::uint64_t> counts;
    for (auto& fd : eventfds) {
      std::uint64_t v = 0;
      counts.push_back(::read(fd.get(), &v, sizeof v) == sizeof v ? v : 0);
    }
    return counts;
  }

  std::unique_ptr<Rig> rig;
  std::optional<DmaDriver> driver;
  MemFd mem;
  Mapping host;
  std::uint64_t iova = 0, total = 0, region_size = 0, copy = 0;
  bool mapped = false;
  std::vector<EventFd> eventfds;
};

TEST_P(DriverConformance, ProbeAcceptsItsIdsAndRefusesOthers) {
  auto ids = pci::read_ids(dev());
  ASSERT_TRUE(ids) << ids.error().message();
  EXPECT_EQ(driver->info().name, GetParam().driver);
  const DriverInfo* picked = find_driver(*ids);
  ASSERT_NE(picked, nullptr);
  EXPECT_EQ(picked->name, GetParam().driver);
  EXPECT_TRUE(driver->info().probe(*ids));
  for (PciIds other : kKnownIds) {
    if (other.vendor == ids->vendor && other.device == ids->device) continue;
    const DriverInfo* owner = find_driver(other);
    if (owner && std::string(owner->name) == GetParam().driver) continue;  // a sibling id of the same driver
    EXPECT_FALSE(driver->info().probe(other)) << std::hex << other.vendor << ":" << other.device;
  }
}

TEST_P(DriverConformance, MemcpyStartReturnsAtOnceAndRaisesNoInterrupt) {
  enable_interrupts();
  fill(copy, 1);
  const bool held = rig->can_hold_dma();
  if (held) LU_CHECK_OK(pci::set_bus_master(dev(), false));  // the device cannot finish before we look
  const auto t0 = Clock::now();
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, test_count()));
  const auto took = Clock::now() - t0;
  if (held) {
    auto p = driver->progress();
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_LT(*p, test_count()) << "memcpy_start returned after the copy, not at once";
    LU_CHECK_OK(pci::set_bus_master(dev(), true));
  }
  EXPECT_LT(took, 2s);
  LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 20s));
  std::this_thread::sleep_for(50ms);
  for (std::uint64_t n : take_interrupts()) EXPECT_EQ(n, 0u) << "a copy raised an interrupt";
}

TEST_P(DriverConformance, MemcpyWaitCompletesCountsEveryCopyAndTheDataVerify) {
  fill(copy, 2);
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, test_count()));
  LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 20s));
  auto p = driver->progress();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, test_count());
  expect_copied(copy);
}

TEST_P(DriverConformance, LargeCopyIsSplitIntoChunksWithinMaxMemcpySize) {
  const std::uint64_t size = driver->max_memcpy_size() * 5 / 2 + driver->min_memcpy_size() / 2 + 7;
  if (size > kSide) GTEST_SKIP() << "max_memcpy_size " << driver->max_memcpy_size() << " leaves nothing to split in 1 MiB";
  fill(size, 3);
  auto st = driver->memcpy_start(src(), dst(), driver->max_memcpy_size() + 1, 1);
  ASSERT_FALSE(st) << "a copy above max_memcpy_size was accepted";
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << st.error().message();
  LU_CHECK_OK(driver->memcpy(src(), dst(), size, Clock::now() + 30s));
  expect_copied(size);
}

TEST_P(DriverConformance, RepeatedCopyUpToMaxMemcpyCountCompletesAndMoreIsRefused) {
  auto st = driver->memcpy_start(src(), dst(), copy, driver->max_memcpy_count() + 1);
  ASSERT_FALSE(st) << "a count above max_memcpy_count was accepted";
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << st.error().message();
  fill(copy, 4);
  const std::uint64_t count = GetParam().max_test_count >= driver->max_memcpy_count() ? driver->max_memcpy_count() : test_count();
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, count));
  LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 30s));
  auto p = driver->progress();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, count);
  expect_copied(copy);
}

TEST_P(DriverConformance, SendMsiRaisesExactlyOneInterruptOnTheAdvertisedVector) {
  enable_interrupts();
  (void)take_interrupts();
  LU_CHECK_OK(driver->send_msi());
  std::vector<std::uint64_t> seen(eventfds.size(), 0);
  const auto until = Clock::now() + 3s;
  while (seen[driver->msi_vector()] == 0 && Clock::now() < until) {
    auto now = take_interrupts();
    for (std::size_t i = 0; i < seen.size(); ++i) seen[i] += now[i];
    std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(100ms);  // a second, late interrupt would show here
  auto late = take_interrupts();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    seen[i] += late[i];
    EXPECT_EQ(seen[i], i == driver->msi_vector() ? 1u : 0u) << "interrupts on vector " << i;
  }
}

TEST_P(DriverConformance, ADeviceReportedErrorSurfacesAsAnErrorNotAHangAndTheDeviceRecovers) {
  enable_interrupts();
  const auto t0 = Clock::now();
  LU_CHECK_OK(driver->memcpy_start(unmapped(), dst(), copy, 1));  // the source is not mapped
  auto st = driver->memcpy_wait(t0 + 10s);
  EXPECT_LT(Clock::now() - t0, 12s) << "memcpy_wait overran its deadline";
  if (GetParam().reports_errors) {
    ASSERT_FALSE(st) << "a copy from an unmapped IOVA reported success";
    EXPECT_NE(st.error().err, ETIMEDOUT) << "the device's error became a timeout: " << st.error().message();
  }
  for (std::uint64_t n : take_interrupts()) EXPECT_EQ(n, 0u) << "a failed copy raised an interrupt";
  fill(copy, 5);
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, 1));
  LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 20s));
  expect_copied(copy);
}

TEST_P(DriverConformance, EveryWaitHasADeadline) {
  if (!rig->can_hold_dma()) GTEST_SKIP() << "this device's DMA cannot be held on purpose";
  LU_CHECK_OK(pci::set_bus_master(dev(), false));
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, test_count()));
  const auto t0 = Clock::now();
  auto st = driver->memcpy_wait(t0 + 100ms);
  ASSERT_FALSE(st) << "memcpy_wait reported completion of a held copy";
  EXPECT_EQ(st.error().err, ETIMEDOUT) << st.error().message();
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_TRUE(driver->in_flight()) << "a timed-out copy is still in flight";
  LU_CHECK_OK(pci::set_bus_master(dev(), true));
  LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 20s));
}

TEST_P(DriverConformance, RemoveLeavesTheDeviceQuiescent) {
  fill(copy, 6);
  const bool held = rig->can_hold_dma();
  if (held) LU_CHECK_OK(pci::set_bus_master(dev(), false));  // a job still queued at remove()
  LU_CHECK_OK(driver->memcpy_start(src(), dst(), copy, test_count()));
  if (!held) LU_CHECK_OK(driver->memcpy_wait(Clock::now() + 20s));
  LU_CHECK_OK(driver->remove());
  auto bm = pci::bus_master(dev());
  ASSERT_TRUE(bm) << bm.error().message();
  EXPECT_FALSE(*bm) << "bus mastering is still on after remove()";
  if (auto pending = rig->dma_pending()) {
    EXPECT_FALSE(*pending) << "DMA is still queued after remove()";
  }
  if (held) {
    // Were the job only paused, bus mastering would let it run now.
    std::fill_n(host.data() + kSide, copy, std::uint8_t{0});
    LU_CHECK_OK(pci::set_bus_master(dev(), true));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(*std::max_element(host.data() + kSide, host.data() + kSide + copy), 0) << "the removed job ran";
    LU_CHECK_OK(pci::set_bus_master(dev(), false));
  }
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DriverConformance);
INSTANTIATE_TEST_SUITE_P(On, DriverConformance, ::testing::ValuesIn(targets()),
                         [](const ::testing::TestParamInfo<Target>& info) { return info.param.name; });

}  // namespace
}  // namespace lu::vfio::conformance
