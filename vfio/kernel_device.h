// The kernel backend of vfio::Device: cdev + iommufd, or group + container (type1 / type1v2).
#pragma once

#include <memory>
#include <string>

#include "base/fd.h"
#include "base/ioctl_gateway.h"
#include "base/result.h"
#include "vfio/device.h"
#include "vfio/iommu_mode.h"

namespace lu::vfio {

struct KernelOptions {
  IoctlGateway* gateway = nullptr;  // nullptr: the real ioctl(2)
  std::string sysfs_root = "/sys";  // seam: tests build a fake tree
  std::string dev_root = "/dev";    // seam: tests put plain files where the device nodes would be
};

// Opens a device by BDF in `mode`. Refuses (kRefused, with the bind command in the hint) a
// device not bound to vfio-pci. cdev: /sys/.../vfio-dev/vfioN -> /dev/vfio/devices/vfioN,
// /dev/iommu, IOMMU_IOAS_ALLOC, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT. Group:
// iommu_group -> /dev/vfio/<group>, GET_STATUS (viable), the container, SET_CONTAINER,
// SET_IOMMU, GET_DEVICE_FD. One device per group: a second device of an opened group needs the
// same container, which this does not share.
Result<std::unique_ptr<Device>> open_device(const std::string& bdf, IommuMode mode, const KernelOptions& options = {});

// Adopts a cdev fd retrieved from LUO after a kexec: binds it to a new iommufd and attaches a
// fresh IOAS (map the retrieved memfd again at the recorded IOVAs afterwards).
Result<std::unique_ptr<Device>> adopt_cdev_device(VfioDeviceFd fd, const std::string& bdf,
                                                  const KernelOptions& options = {});

}  // namespace lu::vfio
