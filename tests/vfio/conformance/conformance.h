// The driver conformance suite: every DMA driver, on its device or model, must pass it.
// Parameterised by Target (driver x device); models_test.cc instantiates it for the in-process
// models (simdma, DSA, CBDMA), kernel_main.cc for real devices (edu, igb in a QEMU guest).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "vfio/device.h"
#include "vfio/driver.h"

namespace lu::vfio::conformance {

// One device under test and what can be observed of it beyond the VFIO seam.
class Rig {
 public:
  virtual ~Rig() = default;
  virtual Device& device() = 0;
  // Whether clearing bus mastering holds the device's DMA (a model pauses its engine; real
  // hardware may abort or fault instead), so the suite can keep a copy in flight on purpose.
  virtual bool can_hold_dma() const { return false; }
  // Whether DMA is queued or running, as the device itself knows it; nullopt when only the
  // driver could tell (real hardware).
  virtual std::optional<bool> dma_pending() { return std::nullopt; }
};

struct Target {
  std::string name;    // the instantiation's name: letters, digits and '_'
  std::string driver;  // the driver the table must pick for this device
  std::function<std::unique_ptr<Rig>()> make;
  std::uint64_t max_test_count = 256;  // copies per job the suite asks for (edu: a few; each is 200 ms)
  bool reports_errors = true;          // false: the device cannot report a DMA fault (edu)
  const DriverInfo* force_driver = nullptr;  // use this driver instead of probing (broken_drivers.h)
};

inline std::ostream& operator<<(std::ostream& os, const Target& t) { return os << t.name; }

// The devices a test binary runs the suite on: each binary defines it (models_test.cc,
// kernel_main.cc). Called once, when the tests are registered.
std::vector<Target> targets();

}  // namespace lu::vfio::conformance
