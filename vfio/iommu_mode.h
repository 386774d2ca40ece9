// The five IOMMU modes the kernel's VFIO selftests name, as data.
#pragma once

#include <span>
#include <string_view>

#include "base/result.h"

namespace lu::vfio {

enum class IommuMode { kIommufd, kVfioType1, kVfioType1v2, kIommufdCompatType1, kIommufdCompatType1v2 };

struct IommuModeInfo {
  IommuMode mode;
  const char* name;            // the selftests' spelling, used on the command line
  bool cdev;                   // cdev + iommufd (preservable by LUO) vs group + container
  const char* container_path;  // relative to the /dev root: the container (or iommufd) to open
  unsigned long iommu_type;    // VFIO_SET_IOMMU argument for group modes, 0 for cdev
};

std::span<const IommuModeInfo> iommu_modes();
const IommuModeInfo& mode_info(IommuMode mode);
// kInvalidInput listing the valid names.
Result<IommuMode> parse_iommu_mode(std::string_view name);

}  // namespace lu::vfio
