#include "vfio/iommu_mode.h"

#include <string>

#include "vfio/uapi.h"

namespace lu::vfio {
namespace {
constexpr IommuModeInfo kModes[] = {
    {IommuMode::kIommufd, "iommufd", true, "iommu", 0},
    {IommuMode::kVfioType1, "vfio_type1_iommu", false, "vfio/vfio", uapi::kType1Iommu},
    {IommuMode::kVfioType1v2, "vfio_type1v2_iommu", false, "vfio/vfio", uapi::kType1v2Iommu},
    // /dev/iommu answers the legacy container ioctls when CONFIG_IOMMUFD_VFIO_CONTAINER is set.
    {IommuMode::kIommufdCompatType1, "iommufd_compat_type1", false, "iommu", uapi::kType1Iommu},
    {IommuMode::kIommufdCompatType1v2, "iommufd_compat_type1v2", false, "iommu", uapi::kType1v2Iommu},
};
}  // namespace

std::span<const IommuModeInfo> iommu_modes() { return kModes; }

const IommuModeInfo& mode_info(IommuMode mode) {
  for (const auto& m : kModes)
    if (m.mode == mode) return m;
  return kModes[0];
}

Result<IommuMode> parse_iommu_mode(std::string_view name) {
  std::string names;
  for (const auto& m : kModes) {
    if (name == m.name) return m.mode;
    names += names.empty() ? "" : ", ";
    names += m.name;
  }
  return fail(ErrorKind::kInvalidInput, "parse IOMMU mode", std::string(name), "expected one of " + names);
}

}  // namespace lu::vfio
