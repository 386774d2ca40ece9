#include "sim/pci/engine_model.h"

#include <cerrno>
#include <cstring>

#include "vfio/config_space.h"

namespace lu::sim::pci {
namespace {
namespace cfg = lu::vfio::pci;

constexpr std::uint32_t kMsixEntryWords = 4;
constexpr std::uint32_t kMsixControlWord = 3;  // vector control: bit 0 masked
constexpr std::uint32_t kMsixEntryMasked = 1;
}  // namespace

EngineModel::EngineModel(EngineOptions options, const ConfigIdentity& identity)
    : options_(std::move(options)), config_(identity), msix_table_(identity.msix_vectors * kMsixEntryWords, 0) {
  for (unsigned v = 0; v < identity.msix_vectors; ++v) msix_table_[v * kMsixEntryWords + kMsixControlWord] = kMsixEntryMasked;
}

EngineModel::~EngineModel() { stop_engine(); }

void EngineModel::start_engine() { thread_ = std::thread([this] { engine(); }); }

void EngineModel::stop_engine() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ---- config space and BARs ----

Status EngineModel::config_read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  if (offset > kConfigSize || out.size() > kConfigSize - offset)
    return fail(ErrorKind::kInvalidInput, "sim config read", bdf(), "outside the 4 KiB config space", EINVAL);
  std::lock_guard lock(mu_);
  config_.read(offset, out);
  return {};
}

Status EngineModel::config_write(std::uint32_t offset, std::span<const std::uint8_t> data) {
  if (offset > kConfigSize || data.size() > kConfigSize - offset)
    return fail(ErrorKind::kInvalidInput, "sim config write", bdf(), "outside the 4 KiB config space", EINVAL);
  {
    std::lock_guard lock(mu_);
    if (config_.write(offset, data)) reset_locked();
  }
  cv_.notify_all();  // bus mastering may have changed
  return {};
}

std::uint64_t EngineModel::bar_size(int bar) const {
  if (bar < 0 || bar >= 6) return 0;
  return config_.identity().bar_sizes[static_cast<std::size_t>(bar)];
}

Status EngineModel::check_access(int bar, std::uint64_t offset, unsigned width, const char* op) const {
  const std::uint64_t size = bar_size(bar);
  if (!size) return fail(ErrorKind::kInvalidInput, op, bdf(), std::string(kind()) + " has no BAR" + std::to_string(bar), EINVAL);
  const bool width_ok = width < 32 && (widths(bar) & (1u << width));
  if (!width_ok || offset % width || offset > size || width > size - offset)
    return fail(ErrorKind::kInvalidInput, op, bdf(),
                "a naturally aligned access of a width the register accepts, inside BAR" + std::to_string(bar), EINVAL);
  return {};
}

bool EngineModel::in_msix(int bar, std::uint64_t offset) const {
  const auto& id = config_.identity();
  if (bar != id.msix_bar) return false;
  const std::uint64_t table_end = id.msix_table_offset + std::uint64_t{id.msix_vectors} * 16;
  return (offset >= id.msix_table_offset && offset < table_end) ||
         (offset >= id.msix_pba_offset && offset < id.msix_pba_offset + 8);
}

Result<std::uint64_t> EngineModel::bar_read(int bar, std::uint64_t offset, unsigned width) const {
  LU_TRY_VOID(check_access(bar, offset, width, "sim BAR read"));
  std::lock_guard lock(mu_);
  if (!in_msix(bar, offset)) return reg_read_locked(bar, offset, width);
  std::uint64_t v = msix_read_locked(offset & ~3ull);
  if (width == 8) v |= std::uint64_t{msix_read_locked(offset + 4)} << 32;
  if (width < 4) v = (v >> (8 * (offset & 3))) & ((1ull << (8 * width)) - 1);
  return v;
}

Status EngineModel::bar_write(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) {
  LU_TRY_VOID(check_access(bar, offset, width, "sim BAR write"));
  {
    std::unique_lock lock(mu_);
    if (in_msix(bar, offset) && width >= 4) {
      msix_write_locked(offset, static_cast<std::uint32_t>(value));
      if (width == 8) msix_write_locked(offset + 4, static_cast<std::uint32_t>(value >> 32));
    } else if (!in_msix(bar, offset)) {
      reg_write_locked(bar, offset, width, value);
    }
    deliver(lock);
  }
  cv_.notify_all();
  return {};
}

Status EngineModel::bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data) {
  const std::uint64_t size = bar_size(bar);
  if (!size || offset % 64 || offset > size - 64)
    return fail(ErrorKind::kInvalidInput, "sim BAR submit", bdf(), "a 64-byte aligned submission inside the BAR", EINVAL);
  Status st;
  {
    std::unique_lock lock(mu_);
    st = submit_locked(bar, offset, data);
    deliver(lock);
  }
  cv_.notify_all();
  return st;
}

Status EngineModel::submit_locked(int bar, std::uint64_t, std::span<const std::uint8_t, 64>) {
  return fail(ErrorKind::kInvalidInput, "sim BAR submit", bdf(),
              std::string(kind()) + " has no work-queue portal in BAR" + std::to_string(bar), EINVAL);
}

// ---- MSI-X ----

std::uint32_t EngineModel::msix_read_locked(std::uint64_t offset) const {
  const auto& id = config_.identity();
  if (offset >= id.msix_pba_offset && offset < id.msix_pba_offset + 8)
    return static_cast<std::uint32_t>(msix_pba_ >> (offset == id.msix_pba_offset ? 0 : 32));
  return msix_table_[(offset - id.msix_table_offset) / 4];
}

void EngineModel::msix_write_locked(std::uint64_t offset, std::uint32_t value) {
  const auto& id = config_.identity();
  if (offset >= id.msix_table_offset && offset < id.msix_table_offset + msix_table_.size() * 4)
    msix_table_[(offset - id.msix_table_offset) / 4] = value;  // the PBA is read-only
}

void EngineModel::raise_msix_locked(unsigned vector) {
  if (vector >= msix_vectors()) return;
  const bool masked = msix_table_[vector * kMsixEntryWords + kMsixControlWord] & kMsixEntryMasked;
  if (!config_.msix_enabled() || config_.msix_function_masked() || masked) {
    msix_pba_ |= 1ull << vector;  // pending, as hardware records it
    return;
  }
  ++msis_;
  outbox_.push_back(vector);
}

void EngineModel::deliver(std::unique_lock<std::mutex>& lock) {
  if (outbox_.empty()) return;
  std::vector<unsigned> out;
  out.swap(outbox_);
  auto sink = sink_;
  lock.unlock();
  if (sink)
    for (unsigned v : out) sink(v);
  lock.lock();
}

Status EngineModel::enable_msix(unsigned vectors) {
  if (vectors == 0 || vectors > msix_vectors())
    return fail(ErrorKind::kInvalidInput, "sim enable MSI-X", bdf(), "1.." + std::to_string(msix_vectors()) + " vectors", EINVAL);
  std::lock_guard lock(mu_);
  for (unsigned v = 0; v < msix_vectors(); ++v)
    msix_table_[v * kMsixEntryWords + kMsixControlWord] = v < vectors ? 0 : kMsixEntryMasked;
  const std::uint32_t ctl = kMsixCapOffset + cfg::kMsixControl;
  config_.poke16(ctl, static_cast<std::uint16_t>((config_.peek16(ctl) | cfg::kMsixControlEnable) & ~cfg::kMsixControlFunctionMask));
  return {};
}

void EngineModel::disable_msix() {
  std::lock_guard lock(mu_);
  const std::uint32_t ctl = kMsixCapOffset + cfg::kMsixControl;
  config_.poke16(ctl, static_cast<std::uint16_t>(config_.peek16(ctl) & ~cfg::kMsixControlEnable));
  for (unsigned v = 0; v < msix_vectors(); ++v) msix_table_[v * kMsixEntryWords + kMsixControlWord] = kMsixEntryMasked;
}

void EngineModel::set_msi_sink(std::function<void(unsigned)> sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
}

bool EngineModel::interrupts_enabled() const {
  std::lock_guard lock(mu_);
  return config_.msix_enabled();
}

// ---- DMA ----

bool EngineModel::dma_read_locked(std::uint64_t iova, std::span<std::uint8_t> out) const {
  auto t = iova_.translate(iova, out.size());
  if (!t) return false;
  std::memcpy(out.data(), t->host, out.size());
  return true;
}

bool EngineModel::dma_write_locked(std::uint64_t iova, std::span<const std::uint8_t> in) {
  auto t = iova_.translate(iova, in.size());
  if (!t) return false;
  std::memcpy(t->host, in.data(), in.size());
  return true;
}

EngineModel::CopyResult EngineModel::copy_locked(std::unique_lock<std::mutex>& lock, std::uint64_t src,
                                                 std::uint64_t dst, std::uint64_t size) {
  auto from = iova_.translate(src, size);
  if (!from) return {.fault_iova = src};
  auto to = iova_.translate(dst, size);
  if (!to) return {.fault_iova = dst, .fault_on_write = true};
  const std::uint64_t generation = generation_;
  // The copy runs without the lock so registers stay readable; the translations keep the
  // memory mapped even if it is unmapped meanwhile.
  lock.unlock();
  std::memmove(to->host, from->host, size);
  lock.lock();
  if (generation != generation_) return {.aborted = true};
  last_dst_ = dst;
  last_size_ = size;
  if (corrupt_offset_) corrupt_last_destination_locked();
  return {.ok = true};
}

void EngineModel::corrupt_last_destination_locked() {
  if (!corrupt_offset_ || *corrupt_offset_ >= last_size_) return;
  if (auto t = iova_.translate(last_dst_ + *corrupt_offset_, 1)) *t->host = static_cast<std::uint8_t>(~*t->host);
}

// ---- the engine ----

bool EngineModel::runnable_locked() const {
  return config_.bus_master() && !frozen_ && !stalled_ && has_work_locked();
}

void EngineModel::engine() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!runnable_locked()) {
      cv_.wait(lock);
      continue;
    }
    if (options_.bytes_per_second && Clock::now() < next_work_) {
      cv_.wait_until(lock, next_work_);
      continue;
    }
    const std::uint64_t moved = step_locked(lock);
    deliver(lock);
    if (options_.bytes_per_second) {
      const auto now = Clock::now();
      if (next_work_ < now) next_work_ = now;  // no burst to catch up after a pause
      next_work_ += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(moved) / static_cast<double>(options_.bytes_per_second)));
    }
    cv_.notify_all();
  }
}

// ---- kernel actions ----

void EngineModel::reset_locked() {
  ++generation_;
  ++resets_;
  config_.restore_defaults();
  for (unsigned v = 0; v < msix_vectors(); ++v) {
    for (unsigned w = 0; w < kMsixEntryWords; ++w) msix_table_[v * kMsixEntryWords + w] = 0;
    msix_table_[v * kMsixEntryWords + kMsixControlWord] = kMsixEntryMasked;
  }
  msix_pba_ = 0;
  stalled_ = false;
  corrupt_offset_.reset();
  reset_registers_locked();
}

void EngineModel::reset() {
  {
    std::lock_guard lock(mu_);
    reset_locked();
  }
  cv_.notify_all();
}

void EngineModel::freeze() {
  std::lock_guard lock(mu_);
  frozen_ = true;
  ++generation_;
}

void EngineModel::unfreeze() {
  {
    std::lock_guard lock(mu_);
    frozen_ = false;
    next_work_ = Clock::now();
  }
  cv_.notify_all();
}

bool EngineModel::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

// ---- faults ----

void EngineModel::clear_bus_master() {
  std::lock_guard lock(mu_);
  config_.poke16(cfg::kCommand, static_cast<std::uint16_t>(config_.command() & ~cfg::kCommandBusMaster));
}

void EngineModel::corrupt_config_byte(std::uint32_t offset) {
  std::lock_guard lock(mu_);
  if (offset < kConfigSize) config_.poke8(offset, static_cast<std::uint8_t>(~config_.peek8(offset)));
}

void EngineModel::stall_dma() {
  std::lock_guard lock(mu_);
  stalled_ = true;
}

void EngineModel::corrupt_destination(std::uint64_t offset) {
  std::lock_guard lock(mu_);
  corrupt_offset_ = offset;
  corrupt_last_destination_locked();
}

// ---- snapshots ----

std::array<std::uint8_t, kConfigSize> EngineModel::config_snapshot() const {
  std::lock_guard lock(mu_);
  return config_.bytes();
}

bool EngineModel::bus_master() const {
  std::lock_guard lock(mu_);
  return config_.bus_master();
}

bool EngineModel::dma_pending() const {
  std::lock_guard lock(mu_);
  return has_work_locked();
}

std::uint64_t EngineModel::resets() const {
  std::lock_guard lock(mu_);
  return resets_;
}

std::uint64_t EngineModel::msis_raised() const {
  std::lock_guard lock(mu_);
  return msis_;
}

bool EngineModel::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return !has_work_locked(); });
}

}  // namespace lu::sim::pci
