// The driver for Intel DSA (regs.h): one dedicated work queue (WQ 0 in group 0 with engine 0),
// descriptors submitted to its portal with 64-byte writes, completion records polled in the
// driver region. A repeated copy is a series of batch descriptors that each run the same list
// of copy descriptors; each batch writes its own completion record, so progress is counted per
// batch and a failing copy is reported with its own record.
//
// The job (count, copies per batch) is written into the driver region too: the region lives in
// the preserved DMA memfd, so after a kexec init() finds the job and adopts a device whose work
// queue is still enabled instead of resetting it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/hex.h"
#include "vfio/drivers/drivers.h"
#include "vfio/drivers/dsa/regs.h"

namespace lu::vfio::drivers {
namespace {

namespace r = dsa;

// The driver region (4 KiB).
constexpr std::uint64_t kJob = 0x000, kCopyRecord = 0x040, kMsiRecord = 0x060, kMsiSrc = 0x080, kMsiDst = 0x088,
                        kBatchRecords = 0x100, kBatchDescs = 0x300, kCopyDescs = 0x700;
constexpr std::uint32_t kMaxBatches = 16, kMaxCopies = 32;  // batch descriptors, copies in the shared list
constexpr std::uint64_t kRegionSize = 0x1000;
static_assert(kCopyDescs + kMaxCopies * 64 <= kRegionSize && kBatchDescs + kMaxBatches * 64 <= kCopyDescs);
constexpr std::uint32_t kJobMagic = 0x64736131;  // "dsa1"
constexpr std::uint32_t kMsiVector = 1;          // vector 0 reports errors and commands
constexpr auto kCommandTimeout = std::chrono::seconds(5);

struct Job {
  std::uint32_t magic;
  std::uint32_t per_batch;
  std::uint64_t count;
};

// Batch sizes for `count` copies, at most `per` each; a batch of one is not allowed, so a
// remainder of one borrows a copy from the batch before it.
std::vector<std::uint32_t> batch_sizes(std::uint64_t count, std::uint32_t per) {
  std::vector<std::uint32_t> sizes;
  while (count) {
    std::uint64_t n = std::min<std::uint64_t>(count, per);
    count -= n;
    if (count == 1) --n, ++count;
    sizes.push_back(static_cast<std::uint32_t>(n));
  }
  return sizes;
}

const char* completion_name(std::uint8_t status) {
  switch (status & r::kCompStatusMask) {
    case 0x03: return "page fault (block-on-fault off): an IOVA is not mapped";
    case 0x05: return "a descriptor of the batch failed";
    case 0x06: return "page fault reading the batch's descriptor list";
    case 0x10: return "operation not allowed on this work queue";
    case 0x13: return "transfer size out of range";
    case 0x14: return "descriptor count out of range";
    case 0x16: return "overlapping buffers";
    case 0x18: return "descriptor list not 64-byte aligned";
    case 0x19: return "invalid interrupt handle";
    case 0x1a: return "completion record address not translated";
    case 0x1b: return "completion record not 32-byte aligned";
  }
  return "device error";
}

class Dsa final : public Driver {
 public:
  explicit Dsa(Device& device) : dev_(device) {}

  Status init(const DriverRegion& region) override {
    if (!region.host) return fail(ErrorKind::kInvalidInput, "dsa init", dev_.bdf(), "the driver region needs a CPU mapping");
    region_ = region;
    LU_TRY_VOID(read_caps());
    if (LU_TRY(adoptable())) return {};
    return configure();
  }

  void remove() override { (void)command(r::kCmdResetDevice, 0); }
  std::uint64_t max_memcpy_size() const override { return 1ull << max_xfer_shift_; }
  std::uint64_t max_memcpy_count() const override {
    return std::uint64_t{std::min(kMaxBatches, wq_size_)} * std::min(kMaxCopies, 1u << max_batch_shift_);
  }

  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) override {
    const std::uint32_t per = std::min(kMaxCopies, 1u << max_batch_shift_);
    std::memset(host(kCopyRecord), 0, sizeof(r::CompletionRecord));
    std::memset(host(kBatchRecords), 0, kMaxBatches * sizeof(r::CompletionRecord));
    const Job job{kJobMagic, per, count};
    std::memcpy(host(kJob), &job, sizeof job);
    if (count == 1) return submit(copy_desc(src, dst, size, r::kFlagRcr, kCopyRecord));
    // The shared list: copies report only a failure (CRAV without RCR), into the copy record.
    for (std::uint32_t i = 0; i < std::min<std::uint64_t>(count, per); ++i) {
      auto d = copy_desc(src, dst, size, 0, kCopyRecord);
      std::memcpy(host(kCopyDescs + 64ull * i), &d, sizeof d);
    }
    auto sizes = batch_sizes(count, per);
    for (std::size_t b = 0; b < sizes.size(); ++b) {
      r::HwDesc d{.pasid_priv = r::kDescPriv,
                  .flags_opcode = (r::kOpBatch << 24) | r::kFlagCrav | r::kFlagRcr,
                  .completion_addr = iova(kBatchRecords + 32 * b),
                  .src = iova(kCopyDescs),
                  .size = sizes[b]};
      std::memcpy(host(kBatchDescs + 64 * b), &d, sizeof d);
      LU_TRY_VOID(submit(d));
    }
    return {};
  }

  Status memcpy_wait(Deadline deadline) override {
    auto poll = std::chrono::microseconds(50);
    for (;;) {
      LU_TRY_VOID(check_swerr("memcpy_wait"));
      auto done = LU_TRY(job_state());
      if (done) return {};
      if (std::chrono::steady_clock::now() >= deadline)
        return fail(ErrorKind::kSystem, "memcpy_wait", dev_.bdf(),
                    "dsa: the job is still running at the deadline after " + std::to_string(LU_TRY(progress())) +
                        " copies: is bus mastering on and the work queue enabled?",
                    ETIMEDOUT);
      std::this_thread::sleep_for(poll);
      poll = std::min<std::chrono::microseconds>(poll * 2, std::chrono::milliseconds(2));
    }
  }

  Status send_msi() override {
    std::memset(host(kMsiRecord), 0, sizeof(r::CompletionRecord));
    auto d = copy_desc(iova(kMsiSrc), iova(kMsiDst), 8, r::kFlagRcr | r::kFlagRci, kMsiRecord);
    d.int_handle = kMsiVector;
    LU_TRY_VOID(submit(d));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (record(kMsiRecord).status == 0) {
      LU_TRY_VOID(check_swerr("send_msi"));
      if (std::chrono::steady_clock::now() >= deadline)
        return fail(ErrorKind::kSystem, "send_msi", dev_.bdf(), "dsa: the interrupt copy did not complete in 2 s", ETIMEDOUT);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return record_error("send_msi", record(kMsiRecord), "interrupt copy");
  }

  Result<std::uint64_t> progress() override {
    const Job job = current_job();
    if (job.magic != kJobMagic) return 0;
    if (job.count == 1) return record(kCopyRecord).status == r::kCompSuccess ? 1u : 0u;
    std::uint64_t done = 0;
    auto sizes = batch_sizes(job.count, job.per_batch);
    for (std::size_t b = 0; b < sizes.size() && b < kMaxBatches; ++b)
      if (record(kBatchRecords + 32 * b).status == r::kCompSuccess) done += sizes[b];
    return done;
  }

 private:
  std::uint8_t* host(std::uint64_t offset) const { return region_.host + offset; }
  std::uint64_t iova(std::uint64_t offset) const { return region_.iova + offset; }
  Job current_job() const {
    Job job;
    std::memcpy(&job, host(kJob), sizeof job);
    return job;
  }
  // The device writes records behind the compiler's back: read the status with acquire order.
  r::CompletionRecord record(std::uint64_t offset) const {
    r::CompletionRecord rec;
    rec.status = __atomic_load_n(host(offset), __ATOMIC_ACQUIRE);
    std::memcpy(reinterpret_cast<std::uint8_t*>(&rec) + 1, host(offset) + 1, sizeof rec - 1);
    return rec;
  }

  r::HwDesc copy_desc(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint32_t flags, std::uint64_t rec) const {
    return {.pasid_priv = r::kDescPriv,
            .flags_opcode = (r::kOpMemmove << 24) | r::kFlagCrav | flags,
            .completion_addr = iova(rec),
            .src = src,
            .dst = dst,
            .size = static_cast<std::uint32_t>(size)};
  }

  Status submit(const r::HwDesc& d) {
    std::uint8_t bytes[64];
    std::memcpy(bytes, &d, sizeof bytes);
    return dev_.bar_submit64(r::kPortalBar, 0, std::span<const std::uint8_t, 64>(bytes));
  }

  // true when every batch (or the single copy) completed; an error for the first failure.
  Result<bool> job_state() {
    const Job job = current_job();
    if (job.count == 1) {
      auto rec = record(kCopyRecord);
      if (!rec.status) return false;
      LU_TRY_VOID(record_error("memcpy_wait", rec, "copy"));
      return true;
    }
    auto sizes = batch_sizes(job.count, job.per_batch);
    bool all = true;
    for (std::size_t b = 0; b < sizes.size(); ++b) {
      auto rec = record(kBatchRecords + 32 * b);
      if (!rec.status) all = false;
      else if (rec.status != r::kCompSuccess) {
        auto copy = record(kCopyRecord);
        std::string detail = "batch " + std::to_string(b) + " of " + std::to_string(sizes.size()) + ": " +
                             completion_name(rec.status);
        if (copy.status && copy.status != r::kCompSuccess)
          detail += "; the failing copy: " + std::string(completion_name(copy.status)) + " at IOVA " + hex(copy.fault_addr);
        return fail(ErrorKind::kRefused, "memcpy_wait", dev_.bdf(), "dsa reported " + detail, EIO);
      }
    }
    return all;
  }

  Status record_error(const char* op, const r::CompletionRecord& rec, const char* what) {
    if (rec.status == r::kCompSuccess) return {};
    std::string hint = std::string("dsa reported for the ") + what + ": " + completion_name(rec.status) +
                       " (status " + hex(rec.status) + ")";
    if ((rec.status & r::kCompStatusMask) == 0x03) hint += " at IOVA " + hex(rec.fault_addr);
    return fail(ErrorKind::kRefused, op, dev_.bdf(), hint, EIO);
  }

  // SWERR holds what no completion record could say (a dropped submission, an unwritable
  // record). Reported once, then acknowledged so the next job starts clean.
  Status check_swerr(const char* op) {
    const std::uint64_t sw = LU_TRY(dev_.bar_read64(r::kMmioBar, r::kSwErr));
    if (!(sw & 1)) return {};
    const std::uint64_t addr = LU_TRY(dev_.bar_read64(r::kMmioBar, r::kSwErr + 16));
    (void)dev_.bar_write64(r::kMmioBar, r::kSwErr, 3);
    return fail(ErrorKind::kRefused, op, dev_.bdf(),
                "dsa software error " + hex((sw >> 8) & 0xff) + " on work queue " + std::to_string((sw >> 16) & 0xff) +
                    " (address " + hex(addr) + "): a dropped submission or an unwritable completion record",
                EIO);
  }

  Status read_caps();
  Result<bool> adoptable();
  Status configure();
  Status command(std::uint32_t cmd, std::uint32_t operand);

  Device& dev_;
  DriverRegion region_{};
  unsigned max_xfer_shift_ = 0, max_batch_shift_ = 0;
  std::uint32_t wq_size_ = 0, total_wq_size_ = 0;
  bool ats_ = false;
  std::uint64_t wqcfg_ = 0, grpcfg_ = 0, wqcfg_bytes_ = 0;
};

Status Dsa::read_caps() {
  const std::uint64_t gencap = LU_TRY(dev_.bar_read64(r::kMmioBar, r::kGenCap));
  const std::uint64_t wqcap = LU_TRY(dev_.bar_read64(r::kMmioBar, r::kWqCap));
  const std::uint64_t table = LU_TRY(dev_.bar_read64(r::kMmioBar, r::kTableOffset));
  if ((gencap >> r::kGenCapCmdCapBit) & 1) {
    const std::uint32_t cmdcap = LU_TRY(dev_.bar_read32(r::kMmioBar, r::kCmdCap));
    if ((cmdcap >> r::kCmdRequestIntHandle) & 1)
      return fail(ErrorKind::kUnavailable, "dsa init", dev_.bdf(),
                  "this DSA wants interrupt handles requested through its command interface, which lu-test does not do");
  }
  if (!((wqcap >> r::kWqCapDedicatedBit) & 1) || ((wqcap >> r::kWqCapNumWqsShift) & 0xff) == 0)
    return fail(ErrorKind::kUnavailable, "dsa init", dev_.bdf(), "the device offers no dedicated work queue");
  max_xfer_shift_ = (gencap >> r::kGenCapMaxXferShift) & 0x1f;
  max_batch_shift_ = (gencap >> r::kGenCapMaxBatchShift) & 0xf;
  total_wq_size_ = wqcap & 0xffff;
  ats_ = (wqcap >> r::kWqCapAtsBit) & 1;
  grpcfg_ = (table & 0xffff) * r::kTableUnit;
  wqcfg_ = ((table >> 16) & 0xffff) * r::kTableUnit;
  wqcfg_bytes_ = 1ull << (((wqcap >> r::kWqCapCfgSizeShift) & 0xf) + 5);
  if (max_batch_shift_ < 1 || total_wq_size_ == 0)
    return fail(ErrorKind::kUnavailable, "dsa init", dev_.bdf(), "the device reports no batch support or no work-queue entries");
  return {};
}

// A device this driver configured before (the job record is in the region, the device and WQ 0
// are enabled) keeps running: a kexec must not reset a copy in flight.
Result<bool> Dsa::adoptable() {
  if (current_job().magic != kJobMagic) return false;
  const std::uint32_t state = LU_TRY(dev_.bar_read32(r::kMmioBar, r::kGenSts));
  const std::uint32_t wq_state = LU_TRY(dev_.bar_read32(r::kMmioBar, wqcfg_ + r::kWqCfgState));
  if ((state & 3) != r::kGenStsEnabled || (wq_state >> 30) != 1) return false;
  wq_size_ = LU_TRY(dev_.bar_read32(r::kMmioBar, wqcfg_ + r::kWqCfgSize)) & 0xffff;
  return wq_size_ > 0;
}

Status Dsa::configure() {
  LU_TRY_VOID(command(r::kCmdResetDevice, 0));
  wq_size_ = std::min<std::uint32_t>(total_wq_size_, 0xffff);
  for (std::uint64_t off = 0; off < wqcfg_bytes_; off += 4) LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, wqcfg_ + off, 0));
  // Dedicated mode, priority 1; ATS off when offered, so IOMMU faults stay visible.
  LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, wqcfg_ + r::kWqCfgSize, wq_size_));
  LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, wqcfg_ + r::kWqCfgMode, 1u | (ats_ ? 4u : 0u) | (1u << 4)));
  LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, wqcfg_ + r::kWqCfgShifts, max_xfer_shift_ | (max_batch_shift_ << 5)));
  if (wqcfg_bytes_ > r::kWqCfgOpConfig)
    LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, wqcfg_ + r::kWqCfgOpConfig, (1u << r::kOpMemmove) | (1u << r::kOpBatch)));
  LU_TRY_VOID(dev_.bar_write64(r::kMmioBar, grpcfg_, 1));                        // WQ 0 in group 0
  LU_TRY_VOID(dev_.bar_write64(r::kMmioBar, grpcfg_ + r::kGrpCfgEngines, 1));   // with engine 0
  LU_TRY_VOID(command(r::kCmdEnableDevice, 0));
  LU_TRY_VOID(command(r::kCmdEnableWq, 0));
  (void)dev_.bar_write64(r::kMmioBar, r::kSwErr, 3);  // start with no stale software error
  return {};
}

Status Dsa::command(std::uint32_t cmd, std::uint32_t operand) {
  LU_TRY_VOID(dev_.bar_write32(r::kMmioBar, r::kCmd, (cmd << 20) | (operand & 0xfffff)));
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  for (;;) {
    const std::uint32_t sts = LU_TRY(dev_.bar_read32(r::kMmioBar, r::kCmdSts));
    if (!(sts & r::kCmdStsActive)) {
      if (sts & 0xff)
        return fail(ErrorKind::kRefused, "dsa command " + std::to_string(cmd), dev_.bdf(),
                    "CMDSTS error " + hex(sts & 0xff) + ": see the idxd command status codes (0x12: bus mastering off)", EIO);
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorKind::kSystem, "dsa command " + std::to_string(cmd), dev_.bdf(), "still active after 5 s", ETIMEDOUT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool probe(PciIds ids) {
  return ids.vendor == r::kVendorIntel && std::ranges::find(r::kDeviceIds, ids.device) != std::end(r::kDeviceIds);
}
std::unique_ptr<Driver> create(Device& device) { return std::make_unique<Dsa>(device); }

}  // namespace

constinit const DriverInfo kDsaDriver = {"dsa", probe, create, 64, kRegionSize, IrqKind::kMsix, kMsiVector};

}  // namespace lu::vfio::drivers
