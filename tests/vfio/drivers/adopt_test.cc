// What the conformance suite cannot see: the DSA and CBDMA drivers adopt a device running a
// job they started (the post stage after a kexec) instead of resetting it, and DSA's software
// error path.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "base/memfd.h"
#include "sim/pci/cbdma_model.h"
#include "sim/pci/dsa_model.h"
#include "sim/pci/local_device.h"
#include "tests/vfio/assert_ok.h"
#include "vfio/config_space.h"
#include "vfio/driver.h"

namespace lu::vfio {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kIova = 0x400000, kSide = 0x10000, kRegion = 2 * kSide, kTotal = 2 * kSide + 0x1000;
constexpr std::uint64_t kCopy = 4096, kCount = 40;
constexpr std::uint64_t kSlow = 40 * 4096;  // bytes per second: the 40 copies take about 1 s

std::unique_ptr<sim::pci::PciModel> slow_model(const std::string& kind) {
  if (kind == "dsa") {
    sim::pci::DsaOptions o;
    o.engine.bytes_per_second = kSlow;
    return std::make_unique<sim::pci::DsaModel>(o);
  }
  sim::pci::CbdmaOptions o;
  o.engine.bytes_per_second = kSlow;
  return std::make_unique<sim::pci::CbdmaModel>(o);
}

class Adopt : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto m = create_sized_memfd("adopt-test", kTotal);
    ASSERT_TRUE(m) << m.error().message();
    mem = std::move(*m);
    auto h = Mapping::map_shared(mem.get(), kTotal, 0, true, "test");
    ASSERT_TRUE(h) << h.error().message();
    host = std::move(*h);
    LU_ASSERT_OK(dev->dma_map({.memfd = mem.get(), .size = kTotal, .host = host.data()}, kIova));
  }
  DmaDriver fresh_driver() {
    auto d = DmaDriver::probe(*dev);
    EXPECT_TRUE(d) << d.error().message();
    auto st = d->init(region());
    EXPECT_TRUE(st) << st.error().message();
    return std::move(*d);
  }
  DriverRegion region() { return {.iova = kIova + kRegion, .host = host.data() + kRegion, .size = 0x1000}; }

  std::unique_ptr<sim::pci::PciModel> model = slow_model(GetParam());
  std::unique_ptr<Device> dev = sim::pci::make_local_device(*model);
  MemFd mem;
  Mapping host;
};

TEST_P(Adopt, InitAfterAKexecAdoptsTheRunningJobInsteadOfResettingIt) {
  std::uint64_t before = 0;
  {
    DmaDriver first = fresh_driver();
    LU_ASSERT_OK(first.memcpy_start(kIova, kIova + kSide, kCopy, kCount));
    const auto until = Clock::now() + 3s;
    while ((before = *first.progress()) < 3 && Clock::now() < until) std::this_thread::sleep_for(5ms);
    ASSERT_GE(before, 3u);
  }  // the pre stage's process ends; the device keeps the job
  DmaDriver second = fresh_driver();
  second.assume_in_flight();
  auto p = second.progress();
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_GE(*p, before) << "the new driver reset the job";
  EXPECT_LT(*p, kCount);
  LU_ASSERT_OK(second.memcpy_wait(Clock::now() + 20s));
  EXPECT_EQ(*second.progress(), kCount);
  EXPECT_EQ(model->resets(), 0u);
}

TEST_P(Adopt, AResetDeviceIsConfiguredAfreshNotAdopted) {
  {
    DmaDriver first = fresh_driver();
    LU_ASSERT_OK(first.memcpy_start(kIova, kIova + kSide, kCopy, 2));
    LU_ASSERT_OK(first.memcpy_wait(Clock::now() + 5s));
  }
  model->reset();  // what a kexec without device preservation does
  DmaDriver second = fresh_driver();
  LU_ASSERT_OK(second.memcpy_start(kIova, kIova + kSide, kCopy, 1));
  LU_ASSERT_OK(second.memcpy_wait(Clock::now() + 5s));
  EXPECT_EQ(*second.progress(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, Adopt, ::testing::Values("dsa", "cbdma"),
                         [](const auto& info) { return info.param; });

TEST(DsaDriver, ADroppedSubmissionSurfacesAsTheSoftwareErrorItCaused) {
  sim::pci::DsaModel dsa;
  auto dev = sim::pci::make_local_device(dsa);
  auto m = create_sized_memfd("dsa-test", kTotal);
  ASSERT_TRUE(m);
  auto h = Mapping::map_shared(m->get(), kTotal, 0, true, "test");
  ASSERT_TRUE(h);
  LU_ASSERT_OK(dev->dma_map({.memfd = m->get(), .size = kTotal, .host = h->data()}, kIova));
  auto d = DmaDriver::probe(*dev);
  ASSERT_TRUE(d) << d.error().message();
  LU_ASSERT_OK(d->init({.iova = kIova + kRegion, .host = h->data() + kRegion, .size = 0x1000}));
  dsa.reset();  // the work queue is gone behind the driver's back
  LU_ASSERT_OK(pci::set_bus_master(*dev, true));
  LU_ASSERT_OK(d->memcpy_start(kIova, kIova + kSide, kCopy, 1));
  auto st = d->memcpy_wait(Clock::now() + 2s);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kRefused) << st.error().message();
  EXPECT_NE(st.error().hint.find("software error 0x20"), std::string::npos) << st.error().message();
}

}  // namespace
}  // namespace lu::vfio
