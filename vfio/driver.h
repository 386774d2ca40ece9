// The DMA driver framework: a table of drivers (name, probe, create) and DmaDriver, which
// enforces the memcpy contract once so that each driver (vfio/drivers/<name>/) stays small.
// Adding a driver = one folder under vfio/drivers/ plus one line in drivers/table.cc (docs/drivers.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "base/result.h"
#include "vfio/device.h"
#include "vfio/sysfs.h"

namespace lu::vfio {

using Deadline = std::chrono::steady_clock::time_point;

// Memory a driver may use for descriptors or completion records, mapped for DMA at `iova`.
struct DriverRegion {
  std::uint64_t iova = 0;
  std::uint8_t* host = nullptr;  // the CPU's view of the same bytes (null when size is 0)
  std::uint64_t size = 0;
};

// What each driver implements.
// The framework guarantees before calling a driver:
// - init() once, after memory decoding and bus mastering are on; remove() at most once, at the
//   end. A driver object destroyed without remove() must leave the device as it is (a copy
//   started before a kexec keeps running after this process is gone).
// - memcpy_start(): min_memcpy_size() <= size <= max_memcpy_size(), 0 < count <= max_memcpy_count(), both
//   ranges below the driver's DMA mask and not overlapping, and no copy in flight.
// - send_msi(): no copy in flight.
// Every driver guarantees:
// - init() does not reset the device or stop a copy in flight when the device already runs a
//   job this driver started (after a kexec it adopts a device whose DMA may still be running);
//   a device in any other state it may reset.
// - min/max_memcpy_size() and max_memcpy_count() are valid after init().
// - memcpy_start() returns at once and raises no interrupt; the device performs the same copy
//   `count` times.
// - memcpy_wait() returns when the copy is complete, an error (not ETIMEDOUT) if the device
//   reported one, and an error with errno ETIMEDOUT when the deadline passes first.
// - progress() counts the copies of the current memcpy_start completed so far.
// - send_msi() raises vector DriverInfo::msi_vector of kind DriverInfo::msi_kind exactly once
//   (the caller enables at least msi_vector + 1 vectors first).
// - remove() stops any DMA and leaves the device idle; the framework then clears bus mastering.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual Status init(const DriverRegion& region) = 0;
  virtual void remove() = 0;
  virtual std::uint64_t max_memcpy_size() const = 0;
  virtual std::uint64_t max_memcpy_count() const = 0;
  // The smallest copy the device can do (igb: an Ethernet frame's 60 bytes).
  virtual std::uint64_t min_memcpy_size() const { return 1; }
  virtual Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) = 0;
  virtual Status memcpy_wait(Deadline deadline) = 0;
  virtual Status send_msi() = 0;
  virtual Result<std::uint64_t> progress() = 0;
  // Paces the current and later copies at `copies_per_second` (0 = full speed), so a long job
  // spans a blackout. false: the device has no such knob (it runs at its own speed).
  virtual Result<bool> set_pace(std::uint32_t /*copies_per_second*/) { return false; }
};

struct DriverInfo {
  const char* name;
  bool (*probe)(PciIds ids);
  std::unique_ptr<Driver> (*create)(Device& device);
  unsigned dma_mask_bits;     // IOVAs the device can address: below 2^bits
  std::uint64_t region_size;  // driver DMA region it needs in init() (64-byte aligned); 0 = none
  IrqKind msi_kind = IrqKind::kMsix;  // what send_msi() raises
  std::uint32_t msi_vector = 0;       // and on which vector
};

// Every known driver, in probe order.
std::span<const DriverInfo* const> driver_table();
const DriverInfo* find_driver(std::string_view name);
const DriverInfo* find_driver(PciIds ids);

class DmaDriver {
 public:
  // Reads vendor/device ids from config space and picks the first driver that accepts them;
  // kUnavailable naming the ids when none does (a SKIP, not a FAIL).
  static Result<DmaDriver> probe(Device& device);
  static DmaDriver with(Device& device, const DriverInfo& info);

  DmaDriver(DmaDriver&&) noexcept;
  DmaDriver& operator=(DmaDriver&&) noexcept;
  // Leaves the device as it is (no remove()): the copy in flight outlives this object, which is
  // how DMA keeps running until and across a kexec. Call remove() to quiesce.
  ~DmaDriver();

  const DriverInfo& info() const { return *info_; }
  std::uint64_t dma_mask() const;
  std::uint64_t max_memcpy_size() const { return driver_->max_memcpy_size(); }
  std::uint64_t max_memcpy_count() const { return driver_->max_memcpy_count(); }
  std::uint64_t min_memcpy_size() const { return driver_->min_memcpy_size(); }

  // Turns on memory decoding and bus mastering, then initialises the driver. Snapshot config
  // space and bus master before this when they are being checked.
  Status init(const DriverRegion& region);
  // Stops DMA (the driver's remove()) and clears bus mastering: the device is quiescent after.
  Status remove();

  // The contract above, checked here (kInvalidInput with the limit in the hint).
  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count);
  Status memcpy_wait(Deadline deadline);
  // A copy of any size >= min_memcpy_size(): split into chunks of at most max_memcpy_size() (a
  // short tail is evened out with the chunk before it), each started and waited for in turn,
  // all within `deadline`.
  Status memcpy(std::uint64_t src, std::uint64_t dst, std::uint64_t size, Deadline deadline);
  // After a kexec, a copy started by the previous boot may still be running on a preserved
  // device: mark it in flight so memcpy_wait() waits for it.
  void assume_in_flight() { in_flight_ = true; }
  bool in_flight() const { return in_flight_; }
  Status send_msi();
  IrqKind msi_kind() const { return info_->msi_kind; }
  std::uint32_t msi_vector() const { return info_->msi_vector; }
  Result<std::uint64_t> progress();
  // See Driver::set_pace: false when the device has no pacing knob.
  Result<bool> set_pace(std::uint32_t copies_per_second);

 private:
  DmaDriver(Device& device, const DriverInfo& info, std::unique_ptr<Driver> driver)
      : device_(&device), info_(&info), driver_(std::move(driver)) {}
  Status check_ready(const char* op) const;

  Device* device_;
  const DriverInfo* info_;
  std::unique_ptr<Driver> driver_;
  bool initialised_ = false;
  bool in_flight_ = false;
};

}  // namespace lu::vfio
