// The DSA model at register level: the command interface and its errors, the dedicated work
// queue, MEMMOVE and BATCH descriptors, completion records and interrupts, and the error paths
// (page faults, range errors, SWERR). Talks to the model as hardware would be talked to.
#include "sim/pci/dsa_model.h"

#include <array>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "tests/sim_pci/dma_memory.h"

namespace lu::sim::pci {
namespace {

using namespace std::chrono_literals;
using testing::DmaMemory;

constexpr std::uint64_t kGenCap = 0x10, kTable = 0x60, kGenSts = 0x90, kCmd = 0xa0, kCmdSts = 0xa8, kSwErr = 0xc0;
constexpr std::uint64_t kGrpCfg = 0x400, kWqCfg = 0x800;
constexpr std::uint32_t kMemmove = 3, kBatch = 1, kCrav = 0x4, kRcr = 0x8, kRci = 0x10;
constexpr std::uint64_t kIova = 0x100000, kRecord = 0x0, kRecord2 = 0x20, kList = 0x1000, kSrc = 0x10000,
                        kDst = 0x20000;

struct Desc {
  std::uint32_t priv = 1u << 31;
  std::uint32_t flags_op = 0;
  std::uint64_t completion = 0, src = 0, dst = 0;
  std::uint32_t size = 0;
  std::uint16_t int_handle = 0, rsvd = 0;
  std::uint8_t rest[24] = {};
};
static_assert(sizeof(Desc) == 64);

class DsaModelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(mem.map(dsa, kIova, 0x40000)); }

  std::uint64_t r64(std::uint64_t off) { return *dsa.bar_read(0, off, 8); }
  std::uint32_t r32(std::uint64_t off) { return static_cast<std::uint32_t>(*dsa.bar_read(0, off, 4)); }
  void w32(std::uint64_t off, std::uint32_t v) { ASSERT_TRUE(dsa.bar_write(0, off, 4, v)); }
  void w64(std::uint64_t off, std::uint64_t v) { ASSERT_TRUE(dsa.bar_write(0, off, 8, v)); }
  std::uint8_t command(std::uint32_t cmd, std::uint32_t operand = 0) {
    w32(kCmd, (cmd << 20) | operand);
    return static_cast<std::uint8_t>(r32(kCmdSts) & 0xff);
  }
  // WQ 0: dedicated, 16 entries, 64 KiB transfers, batches of 16, in group 0 with engine 0.
  void configure(bool dedicated = true, bool grouped = true) {
    w32(kWqCfg + 0, 16);
    w32(kWqCfg + 8, dedicated ? 1 : 0);
    w32(kWqCfg + 12, 16 | (4 << 5));
    if (grouped) {
      w64(kGrpCfg, 1);
      w64(kGrpCfg + 32, 1);
    }
  }
  void enable() {
    testing::set_bus_master(dsa, true);
    configure();
    ASSERT_EQ(command(1), 0);  // ENABLE_DEVICE
    ASSERT_EQ(command(6, 0), 0);  // ENABLE_WQ 0
  }
  void submit(const Desc& d) {
    std::array<std::uint8_t, 64> b;
    std::memcpy(b.data(), &d, 64);
    ASSERT_TRUE(dsa.bar_submit64(2, 0, std::span<const std::uint8_t, 64>(b)));
  }
  Desc memmove(std::uint64_t src, std::uint64_t dst, std::uint32_t size, std::uint32_t flags, std::uint64_t record) {
    return {.flags_op = (kMemmove << 24) | kCrav | flags, .completion = kIova + record, .src = src, .dst = dst, .size = size};
  }
  std::uint8_t wait_record(std::uint64_t record) {
    for (int i = 0; i < 2000 && mem.read<std::uint8_t>(record) == 0; ++i) std::this_thread::sleep_for(1ms);
    return mem.read<std::uint8_t>(record);
  }
  void fill_source(std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i) *mem.at(kSrc + i) = static_cast<std::uint8_t>(i * 7 + 1);
  }

  DsaModel dsa;
  DmaMemory mem;
};

TEST_F(DsaModelTest, IdentityCapabilitiesAndTablesAreWhereTheRegistersSay) {
  auto cfg = dsa.config_snapshot();
  EXPECT_EQ(cfg[0] | cfg[1] << 8, 0x8086);
  EXPECT_EQ(cfg[2] | cfg[3] << 8, 0x0b25);
  EXPECT_EQ(dsa.bar_size(0), 0x10000u);
  EXPECT_EQ(dsa.bar_size(2), 8u * 0x4000);
  const std::uint64_t gencap = r64(kGenCap);
  EXPECT_EQ((gencap >> 16) & 0x1f, 31u) << "max_xfer_shift";
  EXPECT_EQ((gencap >> 21) & 0xf, 10u) << "max_batch_shift";
  const std::uint64_t table = r64(kTable);
  EXPECT_EQ((table & 0xffff) * 0x100, kGrpCfg);
  EXPECT_EQ(((table >> 16) & 0xffff) * 0x100, kWqCfg);
  EXPECT_EQ(r32(kGenSts) & 3, 0u) << "disabled after reset";
}

TEST_F(DsaModelTest, CommandErrorsNameWhatIsWrong) {
  configure();
  EXPECT_EQ(command(1), 0x12) << "ENABLE_DEVICE without bus mastering";
  testing::set_bus_master(dsa, true);
  EXPECT_EQ(command(6, 0), 0x20) << "ENABLE_WQ on a disabled device";
  EXPECT_EQ(command(6, 99), 0x02) << "a WQ index beyond num_wqs";
  EXPECT_EQ(command(31), 0x01) << "an unknown command";
  w64(kGrpCfg, 0);
  EXPECT_EQ(command(1), 0x15) << "a sized WQ in no group";
  configure();
  ASSERT_EQ(command(1), 0);
  EXPECT_EQ(command(1), 0x10) << "ENABLE_DEVICE twice";
  EXPECT_EQ(command(6, 1), 0x22) << "ENABLE_WQ of a WQ of size 0";
  ASSERT_EQ(command(5), 0);  // RESET_DEVICE
  EXPECT_EQ(r32(kGenSts) & 3, 0u);
  EXPECT_EQ(r32(kWqCfg), 0u) << "RESET_DEVICE clears the WQ configuration";
}

TEST_F(DsaModelTest, SharedModeIsRefusedBecauseOnlyDedicatedQueuesAreOffered) {
  testing::set_bus_master(dsa, true);
  configure(/*dedicated=*/false);
  ASSERT_EQ(command(1), 0);
  EXPECT_EQ(command(6, 0), 0x24);
}

TEST_F(DsaModelTest, MemmoveCopiesWritesASuccessRecordAndInterruptsOnlyWhenAsked) {
  std::vector<unsigned> msis;
  dsa.set_msi_sink([&](unsigned v) { msis.push_back(v); });
  ASSERT_TRUE(dsa.enable_msix(3));
  enable();
  fill_source(4096);
  submit(memmove(kIova + kSrc, kIova + kDst, 4096, kRcr, kRecord));
  ASSERT_EQ(wait_record(kRecord), 1) << "success";
  EXPECT_EQ(std::memcmp(mem.at(kSrc), mem.at(kDst), 4096), 0);
  EXPECT_TRUE(msis.empty());
  auto with_irq = memmove(kIova + kSrc, kIova + kDst, 8, kRcr | kRci, kRecord2);
  with_irq.int_handle = 2;
  submit(with_irq);
  ASSERT_EQ(wait_record(kRecord2), 1);
  dsa.wait_idle(1000ms);
  EXPECT_EQ(msis, std::vector<unsigned>{2});
}

TEST_F(DsaModelTest, BatchRunsItsListAndReportsDescriptorsCompleted) {
  enable();
  fill_source(256);
  for (int i = 0; i < 8; ++i) mem.write(kList + 64 * i, memmove(kIova + kSrc, kIova + kDst, 256, 0, kRecord2));
  submit({.flags_op = (kBatch << 24) | kCrav | kRcr, .completion = kIova + kRecord, .src = kIova + kList, .size = 8});
  ASSERT_EQ(wait_record(kRecord), 1);
  EXPECT_EQ(mem.read<std::uint32_t>(kRecord + 4), 8u) << "descs_completed";
  EXPECT_EQ(mem.read<std::uint8_t>(kRecord2), 0) << "copies without RCR write no record on success";
  EXPECT_EQ(std::memcmp(mem.at(kSrc), mem.at(kDst), 256), 0);
}

TEST_F(DsaModelTest, PageFaultInABatchFailsTheBatchAndRecordsTheFaultingCopy) {
  enable();
  mem.write(kList, memmove(kIova + kSrc, kIova + kDst, 64, 0, kRecord2));
  mem.write(kList + 64, memmove(kIova + kSrc, 0x7000000, 64, 0, kRecord2));  // unmapped destination
  submit({.flags_op = (kBatch << 24) | kCrav | kRcr, .completion = kIova + kRecord, .src = kIova + kList, .size = 2});
  ASSERT_EQ(wait_record(kRecord), 0x05) << "batch fail";
  EXPECT_EQ(mem.read<std::uint32_t>(kRecord + 4), 1u) << "one descriptor completed";
  EXPECT_EQ(mem.read<std::uint8_t>(kRecord2), 0x03) << "page fault, block-on-fault off";
  EXPECT_EQ(mem.read<std::uint64_t>(kRecord2 + 8), 0x7000000u) << "fault address";
  EXPECT_EQ(mem.read<std::uint8_t>(kRecord2 + 2) & 1, 1) << "the fault was a write";
}

TEST_F(DsaModelTest, RangeErrorsAreCompletionStatuses) {
  enable();
  submit(memmove(kIova + kSrc, kIova + kDst, 0x20000, kRcr, kRecord));  // above the WQ's 64 KiB
  EXPECT_EQ(wait_record(kRecord), 0x13);
  submit(memmove(kIova + kSrc, kIova + kSrc + 8, 64, kRcr, kRecord2));  // overlapping
  EXPECT_EQ(wait_record(kRecord2), 0x16);
  mem.write<std::uint8_t>(kRecord, 0);
  submit({.flags_op = (kBatch << 24) | kCrav | kRcr, .completion = kIova + kRecord, .src = kIova + kList, .size = 1});
  EXPECT_EQ(wait_record(kRecord), 0x14) << "a batch of one";
}

TEST_F(DsaModelTest, DroppedSubmissionsAndUnwritableRecordsLandInSwerr) {
  submit(memmove(kIova + kSrc, kIova + kDst, 64, kRcr, kRecord));  // the device is disabled
  std::uint64_t sw = r64(kSwErr);
  ASSERT_EQ(sw & 1, 1u) << "SWERR valid";
  EXPECT_EQ((sw >> 8) & 0xff, 0x20u);
  w64(kSwErr, 3);  // acknowledge
  EXPECT_EQ(r64(kSwErr) & 1, 0u);
  enable();
  submit(memmove(kIova + kSrc, kIova + kDst, 64, kRcr, kRecord + 8));  // record not 32-byte aligned
  dsa.wait_idle(1000ms);
  sw = r64(kSwErr);
  ASSERT_EQ(sw & 1, 1u);
  EXPECT_EQ((sw >> 8) & 0xff, 0x1bu);
  EXPECT_EQ(r64(kSwErr + 16), kIova + kRecord + 8);
}

TEST_F(DsaModelTest, NoDmaWithoutBusMasteringOrWhileFrozen) {
  enable();
  fill_source(64);
  dsa.freeze();
  submit(memmove(kIova + kSrc, kIova + kDst, 64, kRcr, kRecord));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(mem.read<std::uint8_t>(kRecord), 0);
  EXPECT_TRUE(dsa.dma_pending());
  testing::set_bus_master(dsa, false);
  dsa.unfreeze();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(mem.read<std::uint8_t>(kRecord), 0) << "bus mastering off holds the engine too";
  testing::set_bus_master(dsa, true);
  EXPECT_EQ(wait_record(kRecord), 1);
  EXPECT_FALSE(dsa.dma_pending());
}

}  // namespace
}  // namespace lu::sim::pci
