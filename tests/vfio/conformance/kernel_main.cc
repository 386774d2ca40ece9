// The conformance suite on real devices through the kernel backend: what runs inside a QEMU
// guest (edu, igb) or on a lab machine (DSA, CBDMA). Devices come from the environment:
//   LU_TEST_CONFORMANCE="igb@0000:00:03.0 0000:00:04.0"  devices bound to vfio-pci, each with
//                      the driver that must handle it (without one: whatever the table picks)
//   LU_TEST_IOMMU_MODE=iommufd                         one of the five IOMMU modes (default iommufd)
//   LU_TEST_SILENT_FAULTS=1                            the devices are emulated ones that do not
//                      report DMA faults (QEMU's igb reads an unmapped IOVA without complaint;
//                      the kernel's selftest ignores the result for the same reason). edu never does.
// Each device is opened per test; the driver the table picks by its ids is the one tested.
#include <cctype>
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/vfio/conformance/conformance.h"
#include "vfio/config_space.h"
#include "vfio/driver.h"
#include "vfio/kernel_device.h"

namespace lu::vfio::conformance {
namespace {

class KernelRig final : public Rig {
 public:
  explicit KernelRig(std::unique_ptr<Device> device) : device_(std::move(device)) {}
  Device& device() override { return *device_; }

 private:
  std::unique_ptr<Device> device_;
};

IommuMode mode() {
  const char* name = std::getenv("LU_TEST_IOMMU_MODE");
  auto m = parse_iommu_mode(name && *name ? name : "iommufd");
  return m ? *m : IommuMode::kIommufd;
}

std::string test_name(const std::string& driver, const std::string& bdf) {
  std::string out = driver + "_";
  for (char c : bdf) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

}  // namespace

std::vector<Target> targets() {
  std::vector<Target> out;
  const char* list = std::getenv("LU_TEST_CONFORMANCE");
  std::istringstream words(list ? list : "");
  for (std::string word; words >> word;) {
    const auto at = word.find('@');
    const std::string bdf = at == std::string::npos ? word : word.substr(at + 1);
    std::string driver = at == std::string::npos ? "" : word.substr(0, at);
    auto make = [bdf]() -> std::unique_ptr<Rig> {
      auto dev = open_device(bdf, mode());
      if (!dev) {
        ADD_FAILURE() << dev.error().message();
        return nullptr;
      }
      return std::make_unique<KernelRig>(std::move(*dev));
    };
    if (driver.empty()) {  // what the table says for the device's ids
      driver = "unknown";
      if (auto probe_dev = open_device(bdf, mode()))
        if (auto ids = pci::read_ids(**probe_dev))
          if (const DriverInfo* d = find_driver(*ids)) driver = d->name;
    }
    const bool edu = driver == "edu";
    const char* silent = std::getenv("LU_TEST_SILENT_FAULTS");
    const bool reports = !edu && !(silent && std::string(silent) == "1");
    out.push_back({.name = test_name(driver, bdf), .driver = driver, .make = make,
                   .max_test_count = edu ? 4u : 256u, .reports_errors = reports});
  }
  return out;
}

}  // namespace lu::vfio::conformance
