// The DMA driver framework: a table of drivers (name, probe, create) and DmaDriver, which
// enforces the memcpy contract once so that each driver (vfio/drivers/<name>/) stays small.
// Adding DSA, CBDMA or igb = one file under vfio/drivers/ plus one line in drivers/table.cc.
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
// - init() once, after memory decoding and bus mastering are on; remove() once, at the end.
// - memcpy_start(): 0 < size <= max_memcpy_size(), 0 < count <= max_memcpy_count(), both
//   ranges below the driver's DMA mask and not overlapping, and no copy in flight.
// Every driver guarantees:
// - init() does not reset the device or stop a copy in flight (after a kexec it runs on a
//   device whose DMA may still be running).
// - memcpy_start() returns at once and raises no interrupt; the device performs the same copy
//   `count` times.
// - memcpy_wait() returns when the copy is complete, an error if the device reported one, and
//   an error with errno ETIMEDOUT when the deadline passes first.
// - progress() counts the copies of the current memcpy_start completed so far.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual Status init(const DriverRegion& region) = 0;
  virtual void remove() = 0;
  virtual std::uint64_t max_memcpy_size() const = 0;
  virtual std::uint64_t max_memcpy_count() const = 0;
  virtual Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) = 0;
  virtual Status memcpy_wait(Deadline deadline) = 0;
  virtual Status send_msi() = 0;  // raises vector 0
  virtual Result<std::uint64_t> progress() = 0;
};

struct DriverInfo {
  const char* name;
  bool (*probe)(PciIds ids);
  std::unique_ptr<Driver> (*create)(Device& device);
  unsigned dma_mask_bits;     // IOVAs the device can address: below 2^bits
  std::uint64_t region_size;  // driver DMA region it needs in init(); 0 = none
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
  ~DmaDriver();  // remove() if still initialised

  const DriverInfo& info() const { return *info_; }
  std::uint64_t dma_mask() const;
  std::uint64_t max_memcpy_size() const { return driver_->max_memcpy_size(); }
  std::uint64_t max_memcpy_count() const { return driver_->max_memcpy_count(); }

  // Turns on memory decoding and bus mastering, then initialises the driver. Snapshot config
  // space and bus master before this when they are being checked.
  Status init(const DriverRegion& region);
  void remove();

  // The contract above, checked here (kInvalidInput with the limit in the hint).
  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count);
  Status memcpy_wait(Deadline deadline);
  // A copy of any size: split into chunks of at most max_memcpy_size(), each started and waited
  // for in turn, all within `deadline`.
  Status memcpy(std::uint64_t src, std::uint64_t dst, std::uint64_t size, Deadline deadline);
  // After a kexec, a copy started by the previous boot may still be running on a preserved
  // device: mark it in flight so memcpy_wait() waits for it.
  void assume_in_flight() { in_flight_ = true; }
  bool in_flight() const { return in_flight_; }
  Status send_msi();
  Result<std::uint64_t> progress();

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
