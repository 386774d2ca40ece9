#include "sim/pci/sim_dma_device.h"

#include <cerrno>
#include <cstring>

#include "vfio/config_space.h"
#include "vfio/drivers/simdma/regs.h"

namespace lu::sim::pci {
namespace {
namespace regs = lu::vfio::simdma;
namespace cfg = lu::vfio::pci;

constexpr std::uint32_t kMsixControlWord = 3;  // index of vector control in a table entry
constexpr std::uint32_t kMsixEntryMasked = 1;

std::uint32_t lo(std::uint64_t v) { return static_cast<std::uint32_t>(v); }
std::uint32_t hi(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }
void set_lo(std::uint64_t& r, std::uint32_t v) { r = (r & ~0xffffffffull) | v; }
void set_hi(std::uint64_t& r, std::uint32_t v) { r = (r & 0xffffffffull) | (std::uint64_t{v} << 32); }
}  // namespace

SimDmaDevice::SimDmaDevice(SimDmaOptions options) : options_(std::move(options)) {
  reset_locked();
  resets_ = 0;
  thread_ = std::thread([this] { engine(); });
}

SimDmaDevice::~SimDmaDevice() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

// ---- config space ----

Status SimDmaDevice::config_read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  if (offset > kConfigSize || out.size() > kConfigSize - offset)
    return fail(ErrorKind::kInvalidInput, "sim config read", bdf(), "outside the 4 KiB config space", EINVAL);
  std::lock_guard lock(mu_);
  config_.read(offset, out);
  return {};
}

Status SimDmaDevice::config_write(std::uint32_t offset, std::span<const std::uint8_t> data) {
  if (offset > kConfigSize || data.size() > kConfigSize - offset)
    return fail(ErrorKind::kInvalidInput, "sim config write", bdf(), "outside the 4 KiB config space", EINVAL);
  {
    std::lock_guard lock(mu_);
    if (config_.write(offset, data)) reset_locked();
  }
  cv_.notify_all();  // bus mastering may have changed
  return {};
}

// ---- BAR0 ----

Result<std::uint64_t> SimDmaDevice::bar0_read(std::uint64_t offset, unsigned width) const {
  if ((width != 4 && width != 8) || offset % width || offset + width > regs::kBar0Size)
    return fail(ErrorKind::kInvalidInput, "sim BAR0 read", bdf(), "4- or 8-byte aligned access inside BAR0", EINVAL);
  std::lock_guard lock(mu_);
  std::uint64_t v = read32_locked(offset);
  if (width == 8) v |= std::uint64_t{read32_locked(offset + 4)} << 32;
  return v;
}

Status SimDmaDevice::bar0_write(std::uint64_t offset, unsigned width, std::uint64_t value) {
  if ((width != 4 && width != 8) || offset % width || offset + width > regs::kBar0Size)
    return fail(ErrorKind::kInvalidInput, "sim BAR0 write", bdf(), "4- or 8-byte aligned access inside BAR0", EINVAL);
  std::optional<unsigned> msi;
  std::function<void(unsigned)> sink;
  {
    std::lock_guard lock(mu_);
    msi = write32_locked(offset, lo(value));
    if (width == 8) {
      auto second = write32_locked(offset + 4, hi(value));
      if (!msi) msi = second;
    }
    sink = msi_sink_;
  }
  cv_.notify_all();
  if (msi && sink) sink(*msi);
  return {};
}

std::uint64_t SimDmaDevice::bar_size(int bar) const { return bar == 0 ? regs::kBar0Size : 0; }

Result<std::uint64_t> SimDmaDevice::bar_read(int bar, std::uint64_t offset, unsigned width) const {
  if (bar != 0) return fail(ErrorKind::kInvalidInput, "sim BAR read", bdf(), "simdma has BAR0 only", EINVAL);
  return bar0_read(offset, width);
}

Status SimDmaDevice::bar_write(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) {
  if (bar != 0) return fail(ErrorKind::kInvalidInput, "sim BAR write", bdf(), "simdma has BAR0 only", EINVAL);
  return bar0_write(offset, width, value);
}

std::uint32_t SimDmaDevice::read32_locked(std::uint64_t offset) const {
  switch (offset) {
    case regs::kRegId: return regs::kIdValue;
    case regs::kRegScratch: return scratch_;
    case regs::kRegMaxSize: return lo(regs::kMaxSize);
    case regs::kRegMaxSize + 4: return hi(regs::kMaxSize);
    case regs::kRegMaxCount: return lo(regs::kMaxCount);
    case regs::kRegMaxCount + 4: return hi(regs::kMaxCount);
    case regs::kRegSrc: return lo(regs_.src);
    case regs::kRegSrc + 4: return hi(regs_.src);
    case regs::kRegDst: return lo(regs_.dst);
    case regs::kRegDst + 4: return hi(regs_.dst);
    case regs::kRegSize: return lo(regs_.size);
    case regs::kRegSize + 4: return hi(regs_.size);
    case regs::kRegCount: return lo(regs_.count);
    case regs::kRegCount + 4: return hi(regs_.count);
    case regs::kRegStatus: return status_;
    case regs::kRegProgress: return lo(progress_);
    case regs::kRegProgress + 4: return hi(progress_);
    case regs::kRegRate: return rate_;
    case regs::kRegErrorIova: return lo(error_iova_);
    case regs::kRegErrorIova + 4: return hi(error_iova_);
    case regs::kRegJobs: return lo(jobs_);
    case regs::kRegJobs + 4: return hi(jobs_);
  }
  if (offset >= regs::kMsixTableOffset && offset < regs::kMsixTableOffset + regs::kMsixVectors * regs::kMsixEntrySize)
    return msix_table_[(offset - regs::kMsixTableOffset) / 4];
  if (offset == regs::kMsixPbaOffset) return lo(msix_pba_);
  if (offset == regs::kMsixPbaOffset + 4) return hi(msix_pba_);
  return 0;  // unimplemented registers read as zero
}

std::optional<unsigned> SimDmaDevice::write32_locked(std::uint64_t offset, std::uint32_t value) {
  switch (offset) {
    case regs::kRegScratch: scratch_ = value; return std::nullopt;
    case regs::kRegSrc: set_lo(regs_.src, value); return std::nullopt;
    case regs::kRegSrc + 4: set_hi(regs_.src, value); return std::nullopt;
    case regs::kRegDst: set_lo(regs_.dst, value); return std::nullopt;
    case regs::kRegDst + 4: set_hi(regs_.dst, value); return std::nullopt;
    case regs::kRegSize: set_lo(regs_.size, value); return std::nullopt;
    case regs::kRegSize + 4: set_hi(regs_.size, value); return std::nullopt;
    case regs::kRegCount: set_lo(regs_.count, value); return std::nullopt;
    case regs::kRegCount + 4: set_hi(regs_.count, value); return std::nullopt;
    case regs::kRegRate: rate_ = value; return std::nullopt;
    case regs::kRegDoorbell:
      if (value == regs::kDoorbellStart) start_locked();
      if (value == regs::kDoorbellAbort && (status_ & regs::kStatusBusy)) fail_job_locked(regs::kErrorAborted, 0);
      return std::nullopt;
    case regs::kRegMsiTrigger: {
      if (value >= regs::kMsixVectors) return std::nullopt;
      const bool masked = msix_table_[value * 4 + kMsixControlWord] & kMsixEntryMasked;
      if (!config_.msix_enabled() || config_.msix_function_masked() || masked) {
        msix_pba_ |= 1ull << value;  // pending, as hardware records it
        return std::nullopt;
      }
      ++msis_;
      return value;
    }
  }
  if (offset >= regs::kMsixTableOffset && offset < regs::kMsixTableOffset + regs::kMsixVectors * regs::kMsixEntrySize)
    msix_table_[(offset - regs::kMsixTableOffset) / 4] = value;
  return std::nullopt;  // read-only and unimplemented registers ignore writes
}

void SimDmaDevice::start_locked() {
  if (status_ & regs::kStatusBusy) {
    // Refused; the running job continues and keeps BUSY.
    status_ |= regs::kStatusError;
    status_ = (status_ & ~regs::kStatusErrorMask) | (regs::kErrorBusy << regs::kStatusErrorShift);
    return;
  }
  job_ = regs_;
  ++generation_;
  ++jobs_;
  progress_ = 0;
  error_iova_ = 0;
  const bool overlap = job_.src < job_.dst + job_.size && job_.dst < job_.src + job_.size;
  if (job_.size == 0 || job_.size > regs::kMaxSize || job_.count == 0 || job_.count > regs::kMaxCount || overlap) {
    status_ = regs::kStatusError | (regs::kErrorBadJob << regs::kStatusErrorShift);
    return;
  }
  status_ = regs::kStatusBusy;
  next_copy_ = Clock::now();
}

void SimDmaDevice::fail_job_locked(std::uint32_t code, std::uint64_t iova) {
  ++generation_;
  error_iova_ = iova;
  status_ = regs::kStatusError | (code << regs::kStatusErrorShift);
}

// ---- the DMA engine ----

bool SimDmaDevice::runnable_locked() const {
  return (status_ & regs::kStatusBusy) && !(status_ & regs::kStatusError) && config_.bus_master() && !frozen_ &&
         !stalled_;
}

void SimDmaDevice::engine() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!runnable_locked()) {
      cv_.wait(lock);
      continue;
    }
    if (rate_ > 0 && Clock::now() < next_copy_) {
      cv_.wait_until(lock, next_copy_);
      continue;
    }
    const Job job = job_;
    const std::uint64_t generation = generation_;
    auto src = iova_.translate(job.src, job.size);
    if (!src) {
      fail_job_locked(regs::kErrorTranslation, job.src);
      cv_.notify_all();
      continue;
    }
    auto dst = iova_.translate(job.dst, job.size);
    if (!dst) {
      fail_job_locked(regs::kErrorTranslation, job.dst);
      cv_.notify_all();
      continue;
    }
    // The copy runs without the lock so registers stay readable; the translations keep the
    // memory mapped even if it is unmapped meanwhile.
    lock.unlock();
    std::memmove(dst->host, src->host, job.size);
    lock.lock();
    if (generation != generation_) continue;  // reset, abort or a new job while copying
    if (corrupt_offset_) corrupt_destination_locked();
    if (++progress_ == job.count) status_ = regs::kStatusDone;
    if (rate_ > 0) {
      auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate_));
      next_copy_ += period;
      // After a pause (bus master off, frozen) resume at the rate, without a burst to catch up.
      if (next_copy_ < Clock::now() - period) next_copy_ = Clock::now();
    }
    cv_.notify_all();
  }
}

// ---- interrupts ----

Status SimDmaDevice::enable_msix(unsigned vectors) {
  if (vectors == 0 || vectors > regs::kMsixVectors)
    return fail(ErrorKind::kInvalidInput, "sim enable MSI-X", bdf(),
                "1.." + std::to_string(regs::kMsixVectors) + " vectors", EINVAL);
  std::lock_guard lock(mu_);
  for (unsigned v = 0; v < regs::kMsixVectors; ++v)
    msix_table_[v * 4 + kMsixControlWord] = v < vectors ? 0 : kMsixEntryMasked;
  std::uint32_t ctl = kMsixCapOffset + cfg::kMsixControl;
  config_.poke16(ctl, static_cast<std::uint16_t>((config_.peek16(ctl) | cfg::kMsixControlEnable) &
                                                 ~cfg::kMsixControlFunctionMask));
  return {};
}

void SimDmaDevice::disable_msix() {
  std::lock_guard lock(mu_);
  std::uint32_t ctl = kMsixCapOffset + cfg::kMsixControl;
  config_.poke16(ctl, static_cast<std::uint16_t>(config_.peek16(ctl) & ~cfg::kMsixControlEnable));
  for (unsigned v = 0; v < regs::kMsixVectors; ++v) msix_table_[v * 4 + kMsixControlWord] = kMsixEntryMasked;
}

unsigned SimDmaDevice::msix_vectors() const { return regs::kMsixVectors; }

void SimDmaDevice::set_msi_sink(std::function<void(unsigned)> sink) {
  std::lock_guard lock(mu_);
  msi_sink_ = std::move(sink);
}

bool SimDmaDevice::interrupts_enabled() const {
  std::lock_guard lock(mu_);
  return config_.msix_enabled();
}

// ---- kernel actions ----

void SimDmaDevice::reset_locked() {
  ++generation_;
  ++resets_;
  config_.restore_defaults();
  scratch_ = 0;
  regs_ = {};
  job_ = {};
  status_ = 0;
  progress_ = 0;
  rate_ = options_.copies_per_second;
  error_iova_ = 0;
  jobs_ = 0;
  msix_table_.fill(0);
  for (unsigned v = 0; v < regs::kMsixVectors; ++v) msix_table_[v * 4 + kMsixControlWord] = kMsixEntryMasked;
  msix_pba_ = 0;
  stalled_ = false;
  corrupt_offset_.reset();
}

void SimDmaDevice::reset() {
  {
    std::lock_guard lock(mu_);
    reset_locked();
  }
  cv_.notify_all();
}

void SimDmaDevice::freeze() {
  std::lock_guard lock(mu_);
  frozen_ = true;
}

void SimDmaDevice::unfreeze() {
  {
    std::lock_guard lock(mu_);
    frozen_ = false;
    next_copy_ = Clock::now();
  }
  cv_.notify_all();
}

bool SimDmaDevice::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

// ---- faults ----

void SimDmaDevice::clear_bus_master() {
  std::lock_guard lock(mu_);
  config_.poke16(cfg::kCommand, static_cast<std::uint16_t>(config_.command() & ~cfg::kCommandBusMaster));
}

void SimDmaDevice::corrupt_config_byte(std::uint32_t offset) {
  std::lock_guard lock(mu_);
  if (offset < kConfigSize) config_.poke8(offset, static_cast<std::uint8_t>(~config_.peek8(offset)));
}

void SimDmaDevice::stall_dma() {
  std::lock_guard lock(mu_);
  stalled_ = true;
}

void SimDmaDevice::corrupt_destination(std::uint64_t offset) {
  std::lock_guard lock(mu_);
  corrupt_offset_ = offset;
  corrupt_destination_locked();
}

void SimDmaDevice::corrupt_destination_locked() {
  if (!corrupt_offset_ || *corrupt_offset_ >= job_.size) return;
  auto dst = iova_.translate(job_.dst + *corrupt_offset_, 1);
  if (dst) *dst->host = static_cast<std::uint8_t>(~*dst->host);
}

void SimDmaDevice::reset_anyway() { reset(); }

// ---- snapshots ----

std::array<std::uint8_t, kConfigSize> SimDmaDevice::config_snapshot() const {
  std::lock_guard lock(mu_);
  return config_.bytes();
}

std::uint64_t SimDmaDevice::progress() const {
  std::lock_guard lock(mu_);
  return progress_;
}

std::uint32_t SimDmaDevice::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool SimDmaDevice::bus_master() const {
  std::lock_guard lock(mu_);
  return config_.bus_master();
}

std::uint64_t SimDmaDevice::resets() const {
  std::lock_guard lock(mu_);
  return resets_;
}

bool SimDmaDevice::dma_pending() const {
  std::lock_guard lock(mu_);
  return (status_ & regs::kStatusBusy) && !(status_ & regs::kStatusError);
}

std::uint64_t SimDmaDevice::msis_raised() const {
  std::lock_guard lock(mu_);
  return msis_;
}

std::uint64_t SimDmaDevice::wait_for_progress(std::uint64_t copies, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return progress_ >= copies; });
  return progress_;
}

}  // namespace lu::sim::pci
