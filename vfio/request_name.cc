// request_name() and the cross-check of uapi.h against the host's <linux/vfio.h>: with
// kernel_device.cc, the only files that include a VFIO kernel header. Debian 12's 6.1 headers
// have the group/container and device ioctls but no cdev ioctls and no iommufd.h; those are
// pinned by uapi.h's own static_asserts and the byte-level tests.
#include <linux/vfio.h>

#include <cstddef>

#include "vfio/uapi.h"

namespace lu::vfio::uapi {

static_assert(kGetApiVersion == VFIO_GET_API_VERSION);
static_assert(kCheckExtension == VFIO_CHECK_EXTENSION);
static_assert(kSetIommu == VFIO_SET_IOMMU);
static_assert(kGroupGetStatus == VFIO_GROUP_GET_STATUS);
static_assert(kGroupSetContainer == VFIO_GROUP_SET_CONTAINER);
static_assert(kGroupUnsetContainer == VFIO_GROUP_UNSET_CONTAINER);
static_assert(kGroupGetDeviceFd == VFIO_GROUP_GET_DEVICE_FD);
static_assert(kDeviceGetInfo == VFIO_DEVICE_GET_INFO);
static_assert(kDeviceGetRegionInfo == VFIO_DEVICE_GET_REGION_INFO);
static_assert(kDeviceGetIrqInfo == VFIO_DEVICE_GET_IRQ_INFO);
static_assert(kDeviceSetIrqs == VFIO_DEVICE_SET_IRQS);
static_assert(kDeviceReset == VFIO_DEVICE_RESET);
static_assert(kIommuGetInfo == VFIO_IOMMU_GET_INFO);
static_assert(kIommuMapDma == VFIO_IOMMU_MAP_DMA);
static_assert(kIommuUnmapDma == VFIO_IOMMU_UNMAP_DMA);
static_assert(kType1Iommu == VFIO_TYPE1_IOMMU && kType1v2Iommu == VFIO_TYPE1v2_IOMMU);
static_assert(kApiVersion == VFIO_API_VERSION);
static_assert(kPciConfigRegionIndex == VFIO_PCI_CONFIG_REGION_INDEX);
static_assert(kPciMsiIrqIndex == VFIO_PCI_MSI_IRQ_INDEX && kPciMsixIrqIndex == VFIO_PCI_MSIX_IRQ_INDEX);
static_assert(kRegionFlagMmap == VFIO_REGION_INFO_FLAG_MMAP && kDeviceFlagsReset == VFIO_DEVICE_FLAGS_RESET);
static_assert(kIrqSetDataEventfd == VFIO_IRQ_SET_DATA_EVENTFD && kIrqSetActionTrigger == VFIO_IRQ_SET_ACTION_TRIGGER &&
              kIrqSetDataNone == VFIO_IRQ_SET_DATA_NONE);
static_assert(kGroupFlagsViable == VFIO_GROUP_FLAGS_VIABLE && kIommuInfoCaps == VFIO_IOMMU_INFO_CAPS);
static_assert(kIommuType1InfoCapIovaRange == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
static_assert(sizeof(RegionInfo) == sizeof(vfio_region_info) && offsetof(RegionInfo, offset) == offsetof(vfio_region_info, offset));
// 6.1's vfio_device_info ends at cap_offset (20 bytes); newer headers add a u32 pad (24). The
// kernel accepts any argsz from the end of cap_offset up, so lu-test sends the newer size.
static_assert(offsetof(DeviceInfo, cap_offset) == offsetof(vfio_device_info, cap_offset) &&
              sizeof(DeviceInfo) >= sizeof(vfio_device_info));
static_assert(sizeof(IrqInfo) == sizeof(vfio_irq_info) && sizeof(IrqSet) == sizeof(vfio_irq_set));
static_assert(sizeof(IommuType1Info) == sizeof(vfio_iommu_type1_info) &&
              offsetof(IommuType1Info, cap_offset) == offsetof(vfio_iommu_type1_info, cap_offset));
static_assert(sizeof(IommuType1DmaMap) == sizeof(vfio_iommu_type1_dma_map) &&
              sizeof(IommuType1DmaUnmap) == sizeof(vfio_iommu_type1_dma_unmap));
static_assert(sizeof(IommuType1InfoCapIovaRange) == sizeof(vfio_iommu_type1_info_cap_iova_range));
#ifdef VFIO_DEVICE_BIND_IOMMUFD  // 6.6+ headers
static_assert(kDeviceBindIommufd == VFIO_DEVICE_BIND_IOMMUFD && kDeviceAttachIommufdPt == VFIO_DEVICE_ATTACH_IOMMUFD_PT);
#endif

const char* request_name(unsigned long request) {
  switch (request) {
    case kGetApiVersion: return "VFIO_GET_API_VERSION";
    case kCheckExtension: return "VFIO_CHECK_EXTENSION";
    case kSetIommu: return "VFIO_SET_IOMMU";
    case kGroupGetStatus: return "VFIO_GROUP_GET_STATUS";
    case kGroupSetContainer: return "VFIO_GROUP_SET_CONTAINER";
    case kGroupUnsetContainer: return "VFIO_GROUP_UNSET_CONTAINER";
    case kGroupGetDeviceFd: return "VFIO_GROUP_GET_DEVICE_FD";
    case kDeviceGetInfo: return "VFIO_DEVICE_GET_INFO";
    case kDeviceGetRegionInfo: return "VFIO_DEVICE_GET_REGION_INFO";
    case kDeviceGetIrqInfo: return "VFIO_DEVICE_GET_IRQ_INFO";
    case kDeviceSetIrqs: return "VFIO_DEVICE_SET_IRQS";
    case kDeviceReset: return "VFIO_DEVICE_RESET";
    case kIommuGetInfo: return "VFIO_IOMMU_GET_INFO";
    case kIommuMapDma: return "VFIO_IOMMU_MAP_DMA";
    case kIommuUnmapDma: return "VFIO_IOMMU_UNMAP_DMA";
    case kDeviceBindIommufd: return "VFIO_DEVICE_BIND_IOMMUFD";
    case kDeviceAttachIommufdPt: return "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
    case kDeviceDetachIommufdPt: return "VFIO_DEVICE_DETACH_IOMMUFD_PT";
    case kIommuDestroy: return "IOMMU_DESTROY";
    case kIoasAlloc: return "IOMMU_IOAS_ALLOC";
    case kIoasIovaRanges: return "IOMMU_IOAS_IOVA_RANGES";
    case kIoasMap: return "IOMMU_IOAS_MAP";
    case kIoasUnmap: return "IOMMU_IOAS_UNMAP";
    case kIoasMapFile: return "IOMMU_IOAS_MAP_FILE";
  }
  return "VFIO_IOCTL_UNKNOWN";
}

}  // namespace lu::vfio::uapi
