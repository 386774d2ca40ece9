// The driver for one Intel CBDMA (ioat v3.2/3.3) channel (regs.h). A repeated copy is a chain:
// the driver region holds a ring of descriptors linked by their next pointers, the job fills
// `count` of them with the same copy, points CHAINADDR at the first and writes DMACOUNT. Each
// descriptor asks for a completion write, so the channel writes CHANSTS (the address of the
// last completed descriptor and the channel status) into the completion word in the region:
// memcpy_wait() and progress() read memory, not registers, as the kernel's ioatdma does.
// After a job the channel is suspended, which is where the next job restarts the chain.
// A halted channel is an error: CHANERR names it, and the channel is reset for the next job.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "base/hex.h"
#include "vfio/config_space.h"
#include "vfio/drivers/cbdma/regs.h"
#include "vfio/drivers/drivers.h"

namespace lu::vfio::drivers {
namespace {

namespace r = cbdma;

// The driver region (4 KiB): job record, completion word, interrupt buffers, the ring.
constexpr std::uint64_t kJob = 0x000, kCompletion = 0x040, kMsiSrc = 0x080, kMsiDst = 0x088, kRing = 0x400;
constexpr std::uint64_t kRegionSize = 0x1000;
constexpr std::uint32_t kRingSize = static_cast<std::uint32_t>((kRegionSize - kRing) / sizeof(r::Descriptor));
constexpr std::uint32_t kJobMagic = 0x63626431;  // "cbd1"
constexpr auto kResetTimeout = std::chrono::seconds(1);

struct Job {
  std::uint32_t magic;
  std::uint32_t count;
};

std::string chanerr_text(std::uint32_t err) {
  static constexpr struct {
    std::uint32_t bit;
    const char* what;
  } kNames[] = {{0x0001, "source address error (source IOVA not mapped?)"},
                {0x0002, "destination address error (destination IOVA not mapped?)"},
                {0x0004, "next descriptor address error"},
                {0x0008, "next descriptor not 64-byte aligned"},
                {0x0010, "chain address invalid"},
                {0x0020, "channel command error"},
                {0x0100, "read data error"},
                {0x0200, "write data error"},
                {0x0400, "descriptor control error"},
                {0x0800, "length error"},
                {0x1000, "completion address error"},
                {0x40000, "descriptor count error"}};
  std::string out;
  for (const auto& n : kNames)
    if (err & n.bit) out += (out.empty() ? "" : ", ") + std::string(n.what);
  return out.empty() ? "unknown error" : out;
}

class Cbdma final : public Driver {
 public:
  explicit Cbdma(Device& device) : dev_(device) {}

  Status init(const DriverRegion& region) override {
    if (!region.host) return fail(ErrorKind::kInvalidInput, "cbdma init", dev_.bdf(), "the driver region needs a CPU mapping");
    region_ = region;
    const std::uint8_t version = LU_TRY(dev_.bar_read8(r::kBar, r::kVersion));
    if (version != r::kVersion32 && version != r::kVersion33)
      return fail(ErrorKind::kUnavailable, "cbdma init", dev_.bdf(), "unsupported ioat version " + hex(version) + " (3.2 and 3.3 are)");
    const std::uint8_t cap = LU_TRY(dev_.bar_read8(r::kBar, r::kXferCap));
    max_size_ = cap == 0 || cap >= 31 ? 1ull << 31 : 1ull << cap;  // the descriptor's size field is 32 bits
    for (std::uint32_t i = 0; i < kRingSize; ++i) ring(i)->next = iova(kRing + 64ull * ((i + 1) % kRingSize));
    if (LU_TRY(adoptable())) return {};
    LU_TRY_VOID(reset_channel());
    return dev_.bar_write8(r::kBar, r::kIntrCtrl, r::kIntrMsixVectorControl);
  }

  void remove() override { (void)reset_channel(); }
  std::uint64_t max_memcpy_size() const override { return max_size_; }
  std::uint64_t max_memcpy_count() const override { return kRingSize; }

  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) override {
    for (std::uint32_t i = 0; i < count; ++i) {
      r::Descriptor* d = ring(i);
      d->size = static_cast<std::uint32_t>(size);
      d->ctl = r::kCtlComplWrite;  // no int_en: a copy raises no interrupt
      d->src = src;
      d->dst = dst;
    }
    const Job job{kJobMagic, static_cast<std::uint32_t>(count)};
    std::memcpy(region_.host + kJob, &job, sizeof job);
    return start_chain(static_cast<std::uint16_t>(count), 0);
  }

  Status memcpy_wait(Deadline deadline) override {
    Job job;
    std::memcpy(&job, region_.host + kJob, sizeof job);
    return wait_for(job.magic == kJobMagic ? job.count : 0, deadline, "memcpy_wait");
  }

  Status send_msi() override {
    const Job none{0, 0};
    std::memcpy(region_.host + kJob, &none, sizeof none);
    r::Descriptor* d = ring(0);
    d->size = 8;
    d->ctl = r::kCtlComplWrite | r::kCtlIntEn;
    d->src = iova(kMsiSrc);
    d->dst = iova(kMsiDst);
    LU_TRY_VOID(start_chain(1, r::kCtrlIntRearm));
    return wait_for(1, std::chrono::steady_clock::now() + std::chrono::seconds(2), "send_msi");
  }

  Result<std::uint64_t> progress() override {
    Job job;
    std::memcpy(&job, region_.host + kJob, sizeof job);
    if (job.magic != kJobMagic) return 0;
    return std::min<std::uint64_t>(completed_in(completion()), job.count);
  }

 private:
  std::uint64_t iova(std::uint64_t offset) const { return region_.iova + offset; }
  r::Descriptor* ring(std::uint32_t i) const { return reinterpret_cast<r::Descriptor*>(region_.host + kRing) + i; }
  // The channel writes CHANSTS here behind the compiler's back: read it with acquire order.
  std::uint64_t completion() const {
    return __atomic_load_n(reinterpret_cast<std::uint64_t*>(region_.host + kCompletion), __ATOMIC_ACQUIRE);
  }
  // Descriptors of the current chain done, from a CHANSTS value (0: none yet).
  std::uint64_t completed_in(std::uint64_t sts) const {
    const std::uint64_t addr = sts & r::kStsAddressMask;
    if (addr < iova(kRing) || addr >= iova(kRing) + 64ull * kRingSize) return 0;
    return (addr - iova(kRing)) / 64 + 1;
  }

  Status start_chain(std::uint16_t count, std::uint16_t extra_ctrl) {
    __atomic_store_n(reinterpret_cast<std::uint64_t*>(region_.host + kCompletion), 0, __ATOMIC_RELEASE);
    LU_TRY_VOID(dev_.bar_write64(r::kBar, r::kChanCmp, iova(kCompletion)));
    LU_TRY_VOID(dev_.bar_write64(r::kBar, r::kChainAddr, iova(kRing)));
    LU_TRY_VOID(dev_.bar_write16(r::kBar, r::kChanCtrl,
                                 static_cast<std::uint16_t>(r::kCtrlErrCompletionEn | r::kCtrlAnyErrAbortEn | extra_ctrl)));
    return dev_.bar_write16(r::kBar, r::kDmaCount, count);  // descriptors were written before this
  }

  Status wait_for(std::uint64_t count, Deadline deadline, const char* op) {
    auto poll = std::chrono::microseconds(20);
    for (;;) {
      std::uint64_t sts = completion();
      // An error whose completion write failed shows only in the register.
      if ((sts & r::kStsStatusMask) != r::kHalted) {
        const std::uint64_t reg = LU_TRY(dev_.bar_read64(r::kBar, r::kChanSts));
        if ((reg & r::kStsStatusMask) == r::kHalted) sts = reg;
      }
      if ((sts & r::kStsStatusMask) == r::kHalted) return halted(op);
      if ((sts & r::kStsStatusMask) == r::kDone && completed_in(sts) >= count)
        return dev_.bar_write8(r::kBar, r::kChanCmd, r::kCmdSuspend);
      if (std::chrono::steady_clock::now() >= deadline)
        return fail(ErrorKind::kSystem, op, dev_.bdf(),
                    "cbdma still copying at the deadline after " + std::to_string(completed_in(sts)) + " of " +
                        std::to_string(count) + " descriptors: is bus mastering on?",
                    ETIMEDOUT);
      std::this_thread::sleep_for(poll);
      poll = std::min<std::chrono::microseconds>(poll * 2, std::chrono::milliseconds(2));
    }
  }

  Status halted(const char* op) {
    const std::uint32_t err = LU_TRY(dev_.bar_read32(r::kBar, r::kChanErr));
    LU_TRY_VOID(reset_channel());
    return fail(ErrorKind::kRefused, op, dev_.bdf(), "cbdma channel halted: CHANERR " + hex(err) + ": " + chanerr_text(err), EIO);
  }

  // A channel this driver started before (its chain is in the region and the channel has no
  // error) keeps running: a kexec must not reset a copy in flight.
  Result<bool> adoptable() {
    Job job;
    std::memcpy(&job, region_.host + kJob, sizeof job);
    if (job.magic != kJobMagic) return false;
    const std::uint64_t chain = LU_TRY(dev_.bar_read64(r::kBar, r::kChainAddr));
    const std::uint64_t sts = LU_TRY(dev_.bar_read64(r::kBar, r::kChanSts));
    const std::uint32_t err = LU_TRY(dev_.bar_read32(r::kBar, r::kChanErr));
    return chain == iova(kRing) && (sts & r::kStsStatusMask) != r::kHalted && err == 0;
  }

  // Clears the error registers (channel and config space) and resets the channel: it reads
  // HALTED with no error afterwards, ready for a new chain.
  Status reset_channel() {
    const std::uint32_t cfg_err = LU_TRY(pci::read32(dev_, r::kCfgChanErrInt));
    LU_TRY_VOID(write_config32(r::kCfgChanErrInt, cfg_err));
    const std::uint32_t unc = LU_TRY(pci::read32(dev_, r::kCfgDmaUncErrSts));
    LU_TRY_VOID(write_config32(r::kCfgDmaUncErrSts, unc));
    const std::uint32_t err = LU_TRY(dev_.bar_read32(r::kBar, r::kChanErr));
    LU_TRY_VOID(dev_.bar_write32(r::kBar, r::kChanErr, err));
    LU_TRY_VOID(dev_.bar_write8(r::kBar, r::kChanCmd, r::kCmdReset));
    const auto deadline = std::chrono::steady_clock::now() + kResetTimeout;
    while (LU_TRY(dev_.bar_read8(r::kBar, r::kChanCmd)) & r::kCmdReset) {
      if (std::chrono::steady_clock::now() >= deadline)
        return fail(ErrorKind::kSystem, "cbdma reset", dev_.bdf(), "CHANCMD.RESET still set after 1 s", ETIMEDOUT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return {};
  }

  Status write_config32(std::uint32_t offset, std::uint32_t value) {
    std::uint8_t bytes[4];
    std::memcpy(bytes, &value, 4);
    return dev_.config_write(offset, bytes);
  }

  Device& dev_;
  DriverRegion region_{};
  std::uint64_t max_size_ = 0;
};

bool probe(PciIds ids) { return ids.vendor == r::kVendorIntel && ids.device == r::kDeviceSkx; }
std::unique_ptr<Driver> create(Device& device) { return std::make_unique<Cbdma>(device); }

}  // namespace

// The channel's completion interrupt is MSI-X vector 0.
constinit const DriverInfo kCbdmaDriver = {"cbdma", probe, create, 64, kRegionSize, IrqKind::kMsix, 0};

}  // namespace lu::vfio::drivers
