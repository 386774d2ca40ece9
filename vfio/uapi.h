// The VFIO and IOMMUFD uAPI (include/uapi/linux/vfio.h, iommufd.h), restated so lu-test builds on
// hosts whose headers predate it: Debian 12's 6.1 headers have no iommufd.h and no VFIO cdev
// ioctls. Layouts are pinned below; the kernel backend also checks them against <linux/vfio.h>
// where that header has them, and the unit tests check every request number and byte offset.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lu::vfio::uapi {

// _IO(';', nr): no size or direction bits, so the request is simply 0x3B00 | nr.
inline constexpr unsigned long kIoctlType = ';';
constexpr unsigned long io(unsigned nr) { return (kIoctlType << 8) | nr; }
inline constexpr unsigned kVfioBase = 100;
inline constexpr unsigned kIommufdBase = 0x80;

// Container (/dev/vfio/vfio or the /dev/iommu compat container).
inline constexpr unsigned long kGetApiVersion = io(kVfioBase + 0);   // no argument
inline constexpr unsigned long kCheckExtension = io(kVfioBase + 1);  // integer argument
inline constexpr unsigned long kSetIommu = io(kVfioBase + 2);        // integer argument
inline constexpr unsigned long kIommuGetInfo = io(kVfioBase + 12);
inline constexpr unsigned long kIommuMapDma = io(kVfioBase + 13);
inline constexpr unsigned long kIommuUnmapDma = io(kVfioBase + 14);
// Group (/dev/vfio/<group>).
inline constexpr unsigned long kGroupGetStatus = io(kVfioBase + 3);
inline constexpr unsigned long kGroupSetContainer = io(kVfioBase + 4);  // int* container fd
inline constexpr unsigned long kGroupUnsetContainer = io(kVfioBase + 5);
inline constexpr unsigned long kGroupGetDeviceFd = io(kVfioBase + 6);  // char* BDF, returns the fd
// Device.
inline constexpr unsigned long kDeviceGetInfo = io(kVfioBase + 7);
inline constexpr unsigned long kDeviceGetRegionInfo = io(kVfioBase + 8);
inline constexpr unsigned long kDeviceGetIrqInfo = io(kVfioBase + 9);
inline constexpr unsigned long kDeviceSetIrqs = io(kVfioBase + 10);
inline constexpr unsigned long kDeviceReset = io(kVfioBase + 11);  // no argument
inline constexpr unsigned long kDeviceBindIommufd = io(kVfioBase + 18);      // 6.6+ (cdev)
inline constexpr unsigned long kDeviceAttachIommufdPt = io(kVfioBase + 19);  // 6.6+ (cdev)
inline constexpr unsigned long kDeviceDetachIommufdPt = io(kVfioBase + 20);  // 6.6+ (cdev)
// IOMMUFD (/dev/iommu).
inline constexpr unsigned long kIommuDestroy = io(kIommufdBase + 0x00);
inline constexpr unsigned long kIoasAlloc = io(kIommufdBase + 0x01);
inline constexpr unsigned long kIoasIovaRanges = io(kIommufdBase + 0x04);
inline constexpr unsigned long kIoasMap = io(kIommufdBase + 0x05);
inline constexpr unsigned long kIoasUnmap = io(kIommufdBase + 0x06);
inline constexpr unsigned long kIoasMapFile = io(kIommufdBase + 0x0f);  // 6.14+

inline constexpr int kApiVersion = 0;
inline constexpr unsigned long kType1Iommu = 1;
inline constexpr unsigned long kType1v2Iommu = 3;

inline constexpr std::uint32_t kGroupFlagsViable = 1u << 0;
inline constexpr std::uint32_t kGroupFlagsContainerSet = 1u << 1;
inline constexpr std::uint32_t kDeviceFlagsReset = 1u << 0;
inline constexpr std::uint32_t kDeviceFlagsPci = 1u << 1;
inline constexpr std::uint32_t kRegionFlagRead = 1u << 0;
inline constexpr std::uint32_t kRegionFlagWrite = 1u << 1;
inline constexpr std::uint32_t kRegionFlagMmap = 1u << 2;
inline constexpr std::uint32_t kIrqInfoEventfd = 1u << 0;
inline constexpr std::uint32_t kIrqSetDataNone = 1u << 0;
inline constexpr std::uint32_t kIrqSetDataEventfd = 1u << 2;
inline constexpr std::uint32_t kIrqSetActionTrigger = 1u << 5;
inline constexpr std::uint32_t kDmaMapFlagRead = 1u << 0;
inline constexpr std::uint32_t kDmaMapFlagWrite = 1u << 1;
inline constexpr std::uint32_t kIommuInfoCaps = 1u << 1;
inline constexpr std::uint16_t kIommuType1InfoCapIovaRange = 1;
inline constexpr std::uint32_t kIoasMapFixedIova = 1u << 0;
inline constexpr std::uint32_t kIoasMapWriteable = 1u << 1;
inline constexpr std::uint32_t kIoasMapReadable = 1u << 2;

// vfio-pci region and irq indices.
inline constexpr std::uint32_t kPciBar0RegionIndex = 0;
inline constexpr std::uint32_t kPciBar5RegionIndex = 5;
inline constexpr std::uint32_t kPciRomRegionIndex = 6;
inline constexpr std::uint32_t kPciConfigRegionIndex = 7;
inline constexpr std::uint32_t kPciIntxIrqIndex = 0;
inline constexpr std::uint32_t kPciMsiIrqIndex = 1;
inline constexpr std::uint32_t kPciMsixIrqIndex = 2;

struct GroupStatus {
  std::uint32_t argsz;
  std::uint32_t flags;  // out
};
struct DeviceInfo {
  std::uint32_t argsz;
  std::uint32_t flags;        // out
  std::uint32_t num_regions;  // out
  std::uint32_t num_irqs;     // out
  std::uint32_t cap_offset;   // out
  std::uint32_t pad;
};
struct RegionInfo {
  std::uint32_t argsz;
  std::uint32_t flags;  // out
  std::uint32_t index;  // in
  std::uint32_t cap_offset;
  std::uint64_t size;    // out
  std::uint64_t offset;  // out: where pread/pwrite/mmap on the device fd reach this region
};
struct IrqInfo {
  std::uint32_t argsz;
  std::uint32_t flags;  // out
  std::uint32_t index;  // in
  std::uint32_t count;  // out
};
struct IrqSet {  // followed by `count` s32 eventfds when DATA_EVENTFD
  std::uint32_t argsz;
  std::uint32_t flags;
  std::uint32_t index;
  std::uint32_t start;
  std::uint32_t count;
};
struct IommuType1Info {  // followed by the capability chain when argsz allows
  std::uint32_t argsz;
  std::uint32_t flags;
  alignas(8) std::uint64_t iova_pgsizes;
  std::uint32_t cap_offset;
  std::uint32_t pad;
};
struct InfoCapHeader {
  std::uint16_t id;
  std::uint16_t version;
  std::uint32_t next;  // offset from the start of the info buffer, 0 = end
};
struct IommuType1InfoCapIovaRange {  // followed by nr_iovas VfioIovaRange
  InfoCapHeader header;
  std::uint32_t nr_iovas;
  std::uint32_t reserved;
};
struct VfioIovaRange {
  std::uint64_t start;
  std::uint64_t end;  // inclusive
};
struct IommuType1DmaMap {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::uint64_t vaddr;
  std::uint64_t iova;
  std::uint64_t size;
};
struct IommuType1DmaUnmap {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::uint64_t iova;
  std::uint64_t size;
};
struct DeviceBindIommufd {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::int32_t iommufd;
  std::uint32_t out_devid;  // out
};
struct DeviceAttachIommufdPt {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::uint32_t pt_id;  // in: IOAS id; out: the HWPT the kernel attached
};
struct DeviceDetachIommufdPt {
  std::uint32_t argsz;
  std::uint32_t flags;
};
struct IommuDestroy {
  std::uint32_t size;
  std::uint32_t id;
};
struct IoasAlloc {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t out_ioas_id;
};
struct IommuIovaRange {
  std::uint64_t start;
  std::uint64_t last;  // inclusive
};
struct IoasIovaRanges {
  std::uint32_t size;
  std::uint32_t ioas_id;
  std::uint32_t num_iovas;  // in: capacity of allowed_iovas; out: how many exist (EMSGSIZE if more)
  std::uint32_t reserved;
  alignas(8) std::uint64_t allowed_iovas;  // user pointer to IommuIovaRange[num_iovas]
  alignas(8) std::uint64_t out_iova_alignment;
};
struct IoasMap {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t ioas_id;
  std::uint32_t reserved;
  alignas(8) std::uint64_t user_va;
  alignas(8) std::uint64_t length;
  alignas(8) std::uint64_t iova;
};
struct IoasMapFile {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t ioas_id;
  std::int32_t fd;
  alignas(8) std::uint64_t start;  // byte offset in the file
  alignas(8) std::uint64_t length;
  alignas(8) std::uint64_t iova;
};
struct IoasUnmap {
  std::uint32_t size;
  std::uint32_t ioas_id;
  alignas(8) std::uint64_t iova;
  alignas(8) std::uint64_t length;
};

static_assert(sizeof(GroupStatus) == 8);
static_assert(sizeof(DeviceInfo) == 24 && offsetof(DeviceInfo, cap_offset) == 16);
static_assert(sizeof(RegionInfo) == 32 && offsetof(RegionInfo, size) == 16 && offsetof(RegionInfo, offset) == 24);
static_assert(sizeof(IrqInfo) == 16 && offsetof(IrqInfo, count) == 12);
static_assert(sizeof(IrqSet) == 20 && offsetof(IrqSet, count) == 16);
static_assert(sizeof(IommuType1Info) == 24 && offsetof(IommuType1Info, cap_offset) == 16);
static_assert(sizeof(InfoCapHeader) == 8);
static_assert(sizeof(IommuType1InfoCapIovaRange) == 16);
static_assert(sizeof(VfioIovaRange) == 16);
static_assert(sizeof(IommuType1DmaMap) == 32 && offsetof(IommuType1DmaMap, vaddr) == 8 &&
              offsetof(IommuType1DmaMap, iova) == 16 && offsetof(IommuType1DmaMap, size) == 24);
static_assert(sizeof(IommuType1DmaUnmap) == 24 && offsetof(IommuType1DmaUnmap, iova) == 8);
static_assert(sizeof(DeviceBindIommufd) == 16 && offsetof(DeviceBindIommufd, iommufd) == 8);
static_assert(sizeof(DeviceAttachIommufdPt) == 12 && offsetof(DeviceAttachIommufdPt, pt_id) == 8);
static_assert(sizeof(DeviceDetachIommufdPt) == 8);
static_assert(sizeof(IommuDestroy) == 8);
static_assert(sizeof(IoasAlloc) == 12 && offsetof(IoasAlloc, out_ioas_id) == 8);
static_assert(sizeof(IommuIovaRange) == 16);
static_assert(sizeof(IoasIovaRanges) == 32 && offsetof(IoasIovaRanges, allowed_iovas) == 16 &&
              offsetof(IoasIovaRanges, out_iova_alignment) == 24);
static_assert(sizeof(IoasMap) == 40 && offsetof(IoasMap, user_va) == 16 && offsetof(IoasMap, length) == 24 &&
              offsetof(IoasMap, iova) == 32);
static_assert(sizeof(IoasMapFile) == 40 && offsetof(IoasMapFile, fd) == 12 && offsetof(IoasMapFile, start) == 16 &&
              offsetof(IoasMapFile, length) == 24 && offsetof(IoasMapFile, iova) == 32);
static_assert(sizeof(IoasUnmap) == 24 && offsetof(IoasUnmap, iova) == 8 && offsetof(IoasUnmap, length) == 16);

// Name for error messages, derived from the request so it is never retyped ("VFIO_IOMMU_MAP_DMA").
const char* request_name(unsigned long request);

}  // namespace lu::vfio::uapi
