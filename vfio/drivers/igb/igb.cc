// The driver for the Intel 82576 (igb, 8086:10c9), as QEMU's `-device igb` emulates it. A copy
// is an Ethernet frame sent to itself: the TX descriptor points at the source, the RX
// descriptor at the destination, and the MAC loops the frame back (RCTL.LBM_MAC: QEMU ignores
// the PHY loopback bit that real hardware uses; both are set, as the kernel's selftest does).
// `count` copies are `count` descriptor pairs, queued with one tail write each, polled for the
// RX descriptor-done bit: no interrupts.
//
// QEMU quirks, from the selftest's notes: EECD.AUTO_RD is never set after a reset (CTRL.RST
// clearing is the completion), and STATUS.LU comes up only after an autonegotiation kick.
// A lost frame (TX consumed, RX never written: a DMA fault) is reported as a device error and
// the function is reset and reprogrammed, as the selftest recovers from it.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "base/hex.h"
#include "vfio/drivers/drivers.h"
#include "vfio/drivers/igb/regs.h"

namespace lu::vfio::drivers {
namespace {

namespace r = igb;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The driver region: a 128-byte job record, then the TX ring, then the RX ring (both 128-byte
// aligned, as TDBAL/RDBAL require). The ring size follows the region: 4 KiB gives 120 entries.
constexpr std::uint64_t kHeader = 128;
constexpr std::uint32_t kJobMagic = 0x69676231;  // "igb1"
constexpr std::uint64_t kMinRegion = 4096;
constexpr auto kLostFrameGrace = 200ms;  // the selftest's bound for a frame that will not come

struct Job {
  std::uint32_t magic;
  std::uint32_t ring;   // entries per ring
  std::uint32_t start;  // RX index of the job's first copy
  std::uint32_t count;
};

class Igb final : public Driver {
 public:
  explicit Igb(Device& device) : dev_(device) {}

  Status init(const DriverRegion& region) override {
    if (!region.host) return fail(ErrorKind::kInvalidInput, "igb init", dev_.bdf(), "the driver region needs a CPU mapping");
    region_ = region;
    ring_ = std::min<std::uint64_t>(r::kMaxRing, (region.size - kHeader) / 32) & ~7u;
    if (LU_TRY(adopt())) return {};
    LU_TRY_VOID(reset());
    return hw_init();
  }

  void remove() override {
    (void)write(r::kRctl, 0);
    (void)write(r::kTctl, 0);
    (void)reset();
  }

  std::uint64_t max_memcpy_size() const override { return r::kMaxChunk; }
  std::uint64_t min_memcpy_size() const override { return r::kMinFrame; }
  std::uint64_t max_memcpy_count() const override { return ring_ - 1; }  // a full ring reads as empty

  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) override {
    LU_TRY_VOID(write(r::kEimc, 1));  // vector 0 masked while copying
    const Job job{kJobMagic, ring_, rx_tail_, static_cast<std::uint32_t>(count)};
    std::memcpy(region_.host, &job, sizeof job);
    for (std::uint64_t i = 0; i < count; ++i) {
      r::RxDesc* rx = rx_ring() + rx_tail_;
      *rx = {.pkt_addr = dst, .hdr_addr = 0};
      r::TxDesc* tx = tx_ring() + tx_tail_;
      *tx = {.buffer_addr = src,
             .cmd_type_len = static_cast<std::uint32_t>(size) | r::kTxdDtypData | r::kTxdDcmdDext | r::kTxdDcmdIfcs | r::kTxdDcmdEop,
             .olinfo_status = static_cast<std::uint32_t>(size) << r::kTxdPaylenShift};
      tx_tail_ = (tx_tail_ + 1) % ring_;
      rx_tail_ = (rx_tail_ + 1) % ring_;
    }
    std::atomic_thread_fence(std::memory_order_release);  // descriptors before the tail writes
    LU_TRY_VOID(write(r::kRdt, rx_tail_));
    return write(r::kTdt, tx_tail_);
  }

  Status memcpy_wait(Deadline deadline) override {
    std::optional<Clock::time_point> tx_done;
    for (;;) {
      const Job job = current_job();
      if (job.magic != kJobMagic || done_in(job) == job.count) break;
      const auto now = Clock::now();
      if (!tx_done && LU_TRY(read(r::kTdh)) == LU_TRY(read(r::kTdt))) tx_done = now;
      if (tx_done && now - *tx_done > kLostFrameGrace) return lost(job);
      if (now >= deadline)
        return fail(ErrorKind::kSystem, "memcpy_wait", dev_.bdf(),
                    "igb: " + std::to_string(done_in(job)) + " of " + std::to_string(job.count) +
                        " frames looped back at the deadline: is the link up and bus mastering on?",
                    ETIMEDOUT);
      std::this_thread::sleep_for(100us);
    }
    std::atomic_thread_fence(std::memory_order_acquire);  // the data after the descriptor-done bit
    // Causes auto-clear (EIAC) are write-1-to-clear here: reading EICR is not allowed with EIAC set.
    LU_TRY_VOID(write(r::kEicr, 0xffffffff));
    return write(r::kEims, 1);
  }

  Status send_msi() override { return write(r::kEics, 1); }

  Result<std::uint64_t> progress() override {
    const Job job = current_job();
    return job.magic == kJobMagic ? done_in(job) : 0;
  }

 private:
  r::TxDesc* tx_ring() const { return reinterpret_cast<r::TxDesc*>(region_.host + kHeader); }
  r::RxDesc* rx_ring() const { return reinterpret_cast<r::RxDesc*>(region_.host + kHeader + 16ull * ring_); }
  std::uint64_t tx_iova() const { return region_.iova + kHeader; }
  std::uint64_t rx_iova() const { return region_.iova + kHeader + 16ull * ring_; }
  Result<std::uint32_t> read(std::uint64_t reg) { return dev_.bar_read32(r::kBar, reg); }
  Status write(std::uint64_t reg, std::uint32_t v) { return dev_.bar_write32(r::kBar, reg, v); }
  Job current_job() const {
    Job job;
    std::memcpy(&job, region_.host, sizeof job);
    return job;
  }

  // Copies of `job` done: RX descriptors written back in order from its first.
  std::uint32_t done_in(const Job& job) const {
    std::uint32_t n = 0;
    if (job.ring != ring_) return 0;
    for (; n < job.count; ++n) {
      const auto* status = reinterpret_cast<const std::uint32_t*>(
          reinterpret_cast<const std::uint8_t*>(rx_ring() + (job.start + n) % ring_) + r::kRxdStatusOffset);
      if (!(__atomic_load_n(status, __ATOMIC_ACQUIRE) & r::kRxdStatusDd)) break;
    }
    return n;
  }

  Status lost(const Job& job) {
    const std::uint32_t done = done_in(job);
    // The selftest's recovery: a function reset (FLR), then the registers again.
    (void)dev_.reset();
    LU_TRY_VOID(reset());
    LU_TRY_VOID(hw_init());
    return fail(ErrorKind::kRefused, "memcpy_wait", dev_.bdf(),
                "igb sent " + std::to_string(job.count) + " frames but only " + std::to_string(done) +
                    " came back within 200 ms: a DMA fault (is every IOVA of the copy mapped?); the device was reset",
                EIO);
  }

  // A device this driver programmed before (the job record is in the region and the rings are
  // ours, both directions enabled) keeps running: a kexec must not reset it.
  Result<bool> adopt() {
    const Job job = current_job();
    if (job.magic != kJobMagic || job.ring != ring_) return false;
    const std::uint64_t tdba = LU_TRY(read(r::kTdbal)) | (std::uint64_t{LU_TRY(read(r::kTdbah))} << 32);
    const std::uint32_t tctl = LU_TRY(read(r::kTctl)), rctl = LU_TRY(read(r::kRctl));
    if (tdba != tx_iova() || !(tctl & r::kTctlEn) || !(rctl & r::kRctlEn)) return false;
    tx_tail_ = LU_TRY(read(r::kTdt)) % ring_;
    rx_tail_ = LU_TRY(read(r::kRdt)) % ring_;
    return true;
  }

  Status reset();
  Status hw_init();
  Status setup_loopback();
  Status write_phy(std::uint32_t reg, std::uint16_t value);
  Status wait_queues_enabled();

  Device& dev_;
  DriverRegion region_{};
  std::uint32_t ring_ = 0, tx_tail_ = 0, rx_tail_ = 0;
};

Status Igb::reset() {
  LU_TRY_VOID(write(r::kCtrl, LU_TRY(read(r::kCtrl)) | r::kCtrlRst));
  std::this_thread::sleep_for(1ms);  // at least 1 ms before the device may be polled
  for (int i = 0; i < 20 && !(LU_TRY(read(r::kEecd)) & r::kEecdAutoRd); ++i) std::this_thread::sleep_for(1ms);
  // QEMU never sets AUTO_RD: there, CTRL.RST clearing says the reset completed.
  if (!(LU_TRY(read(r::kEecd)) & r::kEecdAutoRd) && (LU_TRY(read(r::kCtrl)) & r::kCtrlRst))
    return fail(ErrorKind::kSystem, "igb reset", dev_.bdf(), "neither EECD.AUTO_RD set nor CTRL.RST cleared after 20 ms", ETIMEDOUT);
  return write(r::kImc, 0xffffffff);
}

Status Igb::write_phy(std::uint32_t reg, std::uint16_t value) {
  LU_TRY_VOID(write(r::kMdic, value | (reg << r::kMdicRegShift) | (1u << r::kMdicPhyShift) | r::kMdicOpWrite));
  for (int i = 0; i < 1000; ++i) {
    std::this_thread::sleep_for(50us);
    const std::uint32_t mdic = LU_TRY(read(r::kMdic));
    if (mdic & r::kMdicError) break;
    if (mdic & r::kMdicReady) return {};
  }
  return fail(ErrorKind::kSystem, "igb PHY write", dev_.bdf(), "MDIC did not report ready without error for PHY register " + hex(reg), EIO);
}

Status Igb::setup_loopback() {
  // The autonegotiation kick only brings QEMU's STATUS.LU up; on hardware the next write ends it.
  (void)write_phy(r::kMiiBmcr, r::kBmcrAnEnable | r::kBmcrAnRestart);
  LU_TRY_VOID(write_phy(r::kMiiBmcr, r::kBmcrLoopback | r::kBmcrSpeed1000 | r::kBmcrFullDuplex));
  std::this_thread::sleep_for(50ms);
  std::uint32_t ctrl = LU_TRY(read(r::kCtrl)) & ~r::kCtrlSpdSel;
  LU_TRY_VOID(write(r::kCtrl, ctrl | r::kCtrlFrcSpd | r::kCtrlFrcDpx | r::kCtrlSpd1000 | r::kCtrlFd | r::kCtrlSlu));
  std::this_thread::sleep_for(500ms);  // the settling time the kernel's ethtool selftest uses
  return {};
}

Status Igb::wait_queues_enabled() {
  for (int i = 0; i < 2000; ++i) {
    if ((LU_TRY(read(r::kTxdctl)) & r::kQueueEnable) && (LU_TRY(read(r::kRxdctl)) & r::kQueueEnable)) return {};
    std::this_thread::sleep_for(10us);
  }
  return fail(ErrorKind::kSystem, "igb init", dev_.bdf(), "TX/RX queue 0 did not report enabled", ETIMEDOUT);
}

Status Igb::hw_init() {
  const std::uint32_t ext = LU_TRY(read(r::kCtrlExt));
  LU_TRY_VOID(write(r::kCtrlExt, (ext | r::kCtrlExtDrvLoad) & ~r::kCtrlExtLinkModeMask));
  LU_TRY_VOID(setup_loopback());
  // No endless re-send of a failed DMA read: a fault must end, not keep the IOMMU busy.
  LU_TRY_VOID(write(r::kGcr, LU_TRY(read(r::kGcr)) & ~r::kGcrCmplTmoutResend));
  std::memset(region_.host, 0, kHeader + 32ull * ring_);
  LU_TRY_VOID(write(r::kTdbal, static_cast<std::uint32_t>(tx_iova())));
  LU_TRY_VOID(write(r::kTdbah, static_cast<std::uint32_t>(tx_iova() >> 32)));
  LU_TRY_VOID(write(r::kTdlen, ring_ * 16));
  LU_TRY_VOID(write(r::kTdh, 0));
  LU_TRY_VOID(write(r::kTdt, 0));
  LU_TRY_VOID(write(r::kTxdctl, r::kQueueEnable));
  LU_TRY_VOID(write(r::kRdbal, static_cast<std::uint32_t>(rx_iova())));
  LU_TRY_VOID(write(r::kRdbah, static_cast<std::uint32_t>(rx_iova() >> 32)));
  LU_TRY_VOID(write(r::kRdlen, ring_ * 16));
  LU_TRY_VOID(write(r::kRdh, 0));
  LU_TRY_VOID(write(r::kRdt, 0));
  // Advanced one-buffer descriptors, so the written-back status is where RxDesc says.
  LU_TRY_VOID(write(r::kSrrctl, r::kSrrctlDescTypeAdvOneBuf));
  LU_TRY_VOID(write(r::kRxdctl, r::kQueueEnable));
  LU_TRY_VOID(write(r::kRctl, r::kRctlEn | r::kRctlUpe | r::kRctlMpe | r::kRctlBam | r::kRctlLbmMac | r::kRctlSecrc));
  LU_TRY_VOID(write(r::kTctl, r::kTctlEn | r::kTctlPsp));
  LU_TRY_VOID(wait_queues_enabled());
  // MSI-X: causes through IVAR, auto-clear and auto-mask of vector 0, RX queue 0 on vector 0.
  LU_TRY_VOID(write(r::kGpie, r::kGpieMsixMode | r::kGpieEiame));
  LU_TRY_VOID(write(r::kEiac, 1));
  LU_TRY_VOID(write(r::kEiam, 1));
  LU_TRY_VOID(write(r::kIvar0, r::kIvarValid));
  LU_TRY_VOID(write(r::kEims, 1));
  tx_tail_ = rx_tail_ = 0;
  return {};
}

bool probe(PciIds ids) { return ids.vendor == r::kVendorIntel && ids.device == r::kDevice82576; }
std::unique_ptr<Driver> create(Device& device) { return std::make_unique<Igb>(device); }

}  // namespace

// send_msi sets vector 0's cause (EICS) with vector 0 unmasked.
constinit const DriverInfo kIgbDriver = {"igb", probe, create, 64, kMinRegion, IrqKind::kMsix, 0};

}  // namespace lu::vfio::drivers
