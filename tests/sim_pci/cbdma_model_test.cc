// The CBDMA model at register level: the descriptor chain, DMACOUNT, CHANSTS and its write to
// the completion address, CHANERR and its config-space mirror, interrupts, suspend, reset, and
// narrow register accesses.
#include "sim/pci/cbdma_model.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/sim_pci/dma_memory.h"

namespace lu::sim::pci {
namespace {

using namespace std::chrono_literals;
using testing::DmaMemory;

constexpr std::uint64_t kChan = 0x80;
constexpr std::uint64_t kCtrl = kChan, kCmd = kChan + 4, kCount = kChan + 6, kSts = kChan + 8, kChain = kChan + 0x10,
                        kCmp = kChan + 0x18, kErr = kChan + 0x28;
constexpr std::uint64_t kIova = 0x200000, kCompletion = 0x40, kRing = 0x400, kSrc = 0x10000, kDst = 0x20000;
constexpr std::uint32_t kComplWrite = 1u << 3, kIntEn = 1u << 0;

struct Desc {
  std::uint32_t size = 0, ctl = 0;
  std::uint64_t src = 0, dst = 0, next = 0, rsvd[4] = {};
};
static_assert(sizeof(Desc) == 64);

class CbdmaModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(mem.map(dma, kIova, 0x40000));
    testing::set_bus_master(dma, true);
    for (std::uint32_t i = 0; i < 64; ++i) *mem.at(kSrc + i) = static_cast<std::uint8_t>(i + 1);
  }
  std::uint64_t r(std::uint64_t off, unsigned w) { return *dma.bar_read(0, off, w); }
  void w(std::uint64_t off, unsigned width, std::uint64_t v) { ASSERT_TRUE(dma.bar_write(0, off, width, v)); }
  // `n` chained copy descriptors in the ring, the last one asking for a completion write.
  void chain(unsigned n, std::uint64_t src, std::uint32_t ctl_last = kComplWrite) {
    for (unsigned i = 0; i < n; ++i)
      mem.write(kRing + 64 * i, Desc{.size = 64, .ctl = i + 1 == n ? ctl_last : 0, .src = src,
                                     .dst = kIova + kDst + 64 * i, .next = kIova + kRing + 64 * (i + 1)});
  }
  void start(unsigned n) {
    w(kCmp, 8, kIova + kCompletion);
    w(kChain, 8, kIova + kRing);
    w(kCount, 2, n);
  }
  std::uint64_t wait_completion() {
    for (int i = 0; i < 2000 && mem.read<std::uint64_t>(kCompletion) == 0; ++i) std::this_thread::sleep_for(1ms);
    return mem.read<std::uint64_t>(kCompletion);
  }

  CbdmaModel dma;
  DmaMemory mem;
};

TEST_F(CbdmaModelTest, IdentityVersionAndAResetChannelReadsHalted) {
  auto cfg = dma.config_snapshot();
  EXPECT_EQ(cfg[0] | cfg[1] << 8, 0x8086);
  EXPECT_EQ(cfg[2] | cfg[3] << 8, 0x2021);
  EXPECT_EQ(r(0x00, 1), 1u) << "CHANCNT";
  EXPECT_EQ(r(0x01, 1), 20u) << "XFERCAP";
  EXPECT_EQ(r(0x08, 1), 0x33u) << "VER";
  EXPECT_EQ(r(kSts, 8) & 7, 3u) << "HALTED";
}

TEST_F(CbdmaModelTest, AChainRunsToDmacountAndWritesChanstsToTheCompletionAddress) {
  chain(3, kIova + kSrc);
  start(3);
  const std::uint64_t sts = wait_completion();
  EXPECT_EQ(sts & 7, 1u) << "DONE";
  EXPECT_EQ(sts & ~0x3full, kIova + kRing + 128) << "the last completed descriptor";
  EXPECT_EQ(r(kSts, 8), sts);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(std::memcmp(mem.at(kSrc), mem.at(kDst + 64 * i), 64), 0) << "copy " << i;
}

TEST_F(CbdmaModelTest, ANarrowDmacountWriteLeavesTheNeighbouringRegistersAlone) {
  w(kCtrl, 2, 0x0008);
  chain(1, kIova + kSrc);
  w(kCmp, 8, kIova + kCompletion);
  w(kChain, 8, kIova + kRing);
  w(kCount, 2, 1);
  wait_completion();
  EXPECT_EQ(r(kCtrl, 2), 0x0008u) << "CHANCTRL";
  EXPECT_EQ(r(kCount, 2), 1u);
  EXPECT_EQ(r(kErr, 4), 0u);
}

TEST_F(CbdmaModelTest, AnUnmappedSourceHaltsWithChanerrMirroredInConfigSpace) {
  w(kCtrl, 2, 0x0004 | 0x0008);  // error completion, abort on any error
  chain(2, 0x9000000);
  start(2);
  const std::uint64_t sts = wait_completion();
  EXPECT_EQ(sts & 7, 3u) << "HALTED, written to the completion address";
  EXPECT_EQ(r(kErr, 4), 0x1u) << "source address error";
  std::uint8_t cfg[4];
  ASSERT_TRUE(dma.config_read(0x180, cfg));
  EXPECT_EQ(cfg[0], 0x1) << "CHANERR_INT";
  // Restarting does nothing while CHANERR is set; clearing it (write 1) lets a new chain run.
  chain(1, kIova + kSrc);
  mem.write<std::uint64_t>(kCompletion, 0);
  start(1);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(mem.read<std::uint64_t>(kCompletion), 0u);
  w(kErr, 4, 0x1);
  const std::uint8_t clear[4] = {0x1, 0, 0, 0};
  ASSERT_TRUE(dma.config_write(0x180, clear));
  ASSERT_TRUE(dma.config_read(0x180, cfg));
  EXPECT_EQ(cfg[0], 0) << "CHANERR_INT is write-1-to-clear";
  start(1);
  EXPECT_EQ(wait_completion() & 7, 1u);
}

TEST_F(CbdmaModelTest, LengthErrorsHaltTheChannel) {
  mem.write(kRing, Desc{.size = 0, .ctl = kComplWrite, .src = kIova + kSrc, .dst = kIova + kDst, .next = 0});
  start(1);
  for (int i = 0; i < 1000 && (r(kSts, 8) & 7) != 3; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(r(kErr, 4), 0x800u);
}

TEST_F(CbdmaModelTest, TheCompletionInterruptFiresOncePerRearm) {
  std::vector<unsigned> msis;
  dma.set_msi_sink([&](unsigned v) { msis.push_back(v); });
  ASSERT_TRUE(dma.enable_msix(1));
  w(0x03, 1, 0x08);  // INTRCTRL: MSI-X vector control
  chain(1, kIova + kSrc, kComplWrite | kIntEn);
  start(1);
  wait_completion();
  dma.wait_idle(1000ms);
  EXPECT_TRUE(msis.empty()) << "not armed";
  w(kCmd, 1, 0x04);  // suspend
  w(kCtrl, 2, 0x0001);  // re-arm
  mem.write<std::uint64_t>(kCompletion, 0);
  start(1);
  wait_completion();
  dma.wait_idle(1000ms);
  EXPECT_EQ(msis, std::vector<unsigned>{0});
}

TEST_F(CbdmaModelTest, SuspendStopsTheChainAndResetClearsTheChannel) {
  chain(4, kIova + kSrc);
  testing::set_bus_master(dma, false);  // hold the engine with the chain ACTIVE
  start(4);
  EXPECT_EQ(r(kSts, 8) & 7, 0u) << "ACTIVE";
  w(kChain, 8, 0x1234000);
  EXPECT_EQ(r(kChain, 8), kIova + kRing) << "CHAINADDR is ignored while ACTIVE";
  w(kCmd, 1, 0x04);
  EXPECT_EQ(r(kSts, 8) & 7, 2u) << "SUSPENDED";
  testing::set_bus_master(dma, true);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(mem.read<std::uint64_t>(kCompletion), 0u) << "a suspended chain does not run";
  w(kCmd, 1, 0x20);  // reset
  EXPECT_EQ(r(kCmd, 1), 0u);
  EXPECT_EQ(r(kSts, 8) & 7, 3u);
  EXPECT_EQ(r(kChain, 8), 0u);
  EXPECT_FALSE(dma.dma_pending());
}

}  // namespace
}  // namespace lu::sim::pci
