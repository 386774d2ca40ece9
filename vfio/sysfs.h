// What lu-test reads about a PCI device from sysfs. The root is a seam: tests build a fake tree
// in a temp dir. Every name read back from a link (group number, vfioN) is validated before it
// is joined into a /dev path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "vfio/bdf.h"

namespace lu::vfio {

struct PciIds {
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  friend bool operator==(const PciIds&, const PciIds&) = default;
};

class PciSysfs {
 public:
  explicit PciSysfs(std::string root = "/sys") : root_(std::move(root)) {}

  // <root>/bus/pci/devices/<bdf>
  std::string device_dir(const Bdf& bdf) const;
  // kNotFound when there is no such device.
  Status require_present(const Bdf& bdf) const;
  // The name of the VFIO cdev ("vfio3") from <dev>/vfio-dev/: kUnavailable when the kernel has
  // no cdev for it (no CONFIG_VFIO_DEVICE_CDEV, or not bound to vfio-pci).
  Result<std::string> vfio_cdev_name(const Bdf& bdf) const;
  // The IOMMU group number from the iommu_group link: kUnavailable when the device has no group
  // (IOMMU off: intel_iommu=on / amd_iommu=on missing).
  Result<unsigned> iommu_group(const Bdf& bdf) const;
  // The bound driver's name, nullopt when no driver is bound.
  Result<std::optional<std::string>> driver(const Bdf& bdf) const;
  // The guard: ok only when the device is bound to plain vfio-pci. Otherwise kRefused (another
  // driver, or a variant driver LUO does not handle) or kNotFound, with the exact command that
  // would bind it in the hint.
  Status require_vfio_pci(const Bdf& bdf) const;
  // Vendor and device id from the `vendor` and `device` files.
  Result<PciIds> ids(const Bdf& bdf) const;

 private:
  std::string root_;
};

// The command the hints print: `scripts/lu-test-bind-vfio <bdf>`.
std::string bind_command(const Bdf& bdf);

}  // namespace lu::vfio
