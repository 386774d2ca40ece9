// Private to the kernel backend: the IOMMU side of an opened device, one class per kind.
// Each is built by one function that issues the attach sequence in the kernel's order.
#pragma once

#include <memory>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "vfio/device.h"
#include "vfio/iova_allocator.h"
#include "vfio/kernel_calls.h"

namespace lu::vfio {

class KernelIommu {
 public:
  virtual ~KernelIommu() = default;
  virtual Result<std::vector<IovaRange>> iova_ranges() = 0;
  virtual Result<MapKind> map(const DmaBuffer& buffer, std::uint64_t iova) = 0;
  virtual Status unmap(std::uint64_t iova, std::uint64_t size) = 0;
};

// cdev + iommufd: IOMMU_IOAS_ALLOC, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT.
Result<std::unique_ptr<KernelIommu>> attach_iommufd(const KernelCalls& calls, IommuFd iommufd, int device_fd);

// Group + container: GET_STATUS (viable), GET_API_VERSION, CHECK_EXTENSION, SET_CONTAINER,
// SET_IOMMU, then GROUP_GET_DEVICE_FD. Returns the context and the device fd.
struct GroupAttach {
  std::unique_ptr<KernelIommu> iommu;
  VfioDeviceFd device;
};
Result<GroupAttach> attach_group(const KernelCalls& calls, VfioGroupFd group, VfioContainerFd container,
                                 unsigned long iommu_type, const std::string& bdf);

}  // namespace lu::vfio
