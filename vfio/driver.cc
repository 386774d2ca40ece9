#include "base/hex.h"
#include "vfio/driver.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "vfio/config_space.h"

namespace lu::vfio {
namespace {


std::string ids_text(PciIds ids) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", ids.vendor, ids.device);
  return buf;
}

std::string known_drivers() {
  std::string out;
  for (const DriverInfo* d : driver_table()) out += (out.empty() ? "" : ", ") + std::string(d->name);
  return out;
}

}  // namespace

const DriverInfo* find_driver(std::string_view name) {
  for (const DriverInfo* d : driver_table())
    if (name == d->name) return d;
  return nullptr;
}

const DriverInfo* find_driver(PciIds ids) {
  for (const DriverInfo* d : driver_table())
    if (d->probe(ids)) return d;
  return nullptr;
}

Result<DmaDriver> DmaDriver::probe(Device& device) {
  auto ids = LU_TRY(pci::read_ids(device));
  const DriverInfo* info = find_driver(ids);
  if (!info)
    return fail(ErrorKind::kUnavailable, "probe DMA driver", device.bdf(),
                "no lu-test DMA driver handles device " + ids_text(ids) + " (known: " + known_drivers() + ")");
  return with(device, *info);
}

DmaDriver DmaDriver::with(Device& device, const DriverInfo& info) {
  return DmaDriver(device, info, info.create(device));
}

DmaDriver::DmaDriver(DmaDriver&& o) noexcept
    : device_(o.device_), info_(o.info_), driver_(std::move(o.driver_)), initialised_(o.initialised_),
      in_flight_(o.in_flight_) {
  o.initialised_ = false;
}

DmaDriver& DmaDriver::operator=(DmaDriver&& o) noexcept {
  if (this != &o) {
    device_ = o.device_;
    info_ = o.info_;
    driver_ = std::move(o.driver_);
    initialised_ = std::exchange(o.initialised_, false);
    in_flight_ = o.in_flight_;
  }
  return *this;
}

DmaDriver::~DmaDriver() = default;

std::uint64_t DmaDriver::dma_mask() const {
  return info_->dma_mask_bits >= 64 ? ~0ull : (1ull << info_->dma_mask_bits) - 1;
}

Status DmaDriver::init(const DriverRegion& region) {
  if (initialised_)
    return fail(ErrorKind::kInternal, "init DMA driver", device_->bdf(), "init() called twice");
  if (region.size < info_->region_size)
    return fail(ErrorKind::kInvalidInput, "init DMA driver", device_->bdf(),
                std::string(info_->name) + " needs a driver region of " + std::to_string(info_->region_size) +
                    " bytes, got " + std::to_string(region.size));
  if (region.size && (region.iova + region.size - 1) > dma_mask())
    return fail(ErrorKind::kInvalidInput, "init DMA driver", device_->bdf(),
                "the driver region lies above the device's DMA mask " + hex(dma_mask()));
  LU_TRY_VOID(pci::set_bus_master(*device_, true));
  LU_TRY_VOID(driver_->init(region));
  initialised_ = true;
  return {};
}

Status DmaDriver::remove() {
  if (!initialised_ || !driver_) return {};
  driver_->remove();
  initialised_ = false;
  in_flight_ = false;
  return pci::set_bus_master(*device_, false);
}

Status DmaDriver::check_ready(const char* op) const {
  if (!initialised_)
    return fail(ErrorKind::kInternal, op, device_->bdf(), "call init() first");
  return {};
}

Status DmaDriver::memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) {
  LU_TRY_VOID(check_ready("memcpy_start"));
  auto invalid = [&](const std::string& hint) {
    return fail(ErrorKind::kInvalidInput, "memcpy_start", device_->bdf(),
                std::string(info_->name) + ": " + hint);
  };
  if (in_flight_) return invalid("a copy is still in flight; memcpy_wait() for it first");
  if (size == 0 || size < min_memcpy_size() || size > max_memcpy_size())
    return invalid("size " + hex(size) + " must be " + hex(std::max<std::uint64_t>(1, min_memcpy_size())) + ".." +
                   hex(max_memcpy_size()) + " (memcpy() splits larger copies)");
  if (count == 0 || count > max_memcpy_count())
    return invalid("count " + std::to_string(count) + " must be 1.." + std::to_string(max_memcpy_count()));
  const std::uint64_t mask = dma_mask();
  if (src > mask || dst > mask || size - 1 > mask - src || size - 1 > mask - dst)
    return invalid("source or destination lies above the DMA mask " + hex(mask));
  if (src < dst + size && dst < src + size) return invalid("source and destination overlap");
  LU_TRY_VOID(driver_->memcpy_start(src, dst, size, count));
  in_flight_ = true;
  return {};
}

Status DmaDriver::memcpy_wait(Deadline deadline) {
  LU_TRY_VOID(check_ready("memcpy_wait"));
  if (!in_flight_) return {};
  auto st = driver_->memcpy_wait(deadline);
  // A timeout leaves the copy running: it is still in flight. An error or completion ends it.
  if (st || st.error().err != ETIMEDOUT) in_flight_ = false;
  return st;
}

Status DmaDriver::memcpy(std::uint64_t src, std::uint64_t dst, std::uint64_t size, Deadline deadline) {
  const std::uint64_t chunk = max_memcpy_size(), least = min_memcpy_size();
  for (std::uint64_t done = 0; done < size;) {
    std::uint64_t len = std::min(chunk, size - done);
    // A tail below the device's minimum: split the last two chunks evenly instead.
    const std::uint64_t rest = size - done - len;
    if (rest > 0 && rest < least) len = (size - done + 1) / 2;
    LU_TRY_VOID(memcpy_start(src + done, dst + done, len, 1));
    LU_TRY_VOID(memcpy_wait(deadline));
    done += len;
  }
  return {};
}

Status DmaDriver::send_msi() {
  LU_TRY_VOID(check_ready("send_msi"));
  if (in_flight_)
    return fail(ErrorKind::kInvalidInput, "send_msi", device_->bdf(),
                std::string(info_->name) + ": a copy is in flight; memcpy_wait() for it first");
  return driver_->send_msi();
}

Result<bool> DmaDriver::set_pace(std::uint32_t copies_per_second) {
  LU_TRY_VOID(check_ready("set_pace"));
  return driver_->set_pace(copies_per_second);
}

Result<std::uint64_t> DmaDriver::progress() {
  LU_TRY_VOID(check_ready("progress"));
  return driver_->progress();
}

}  // namespace lu::vfio
