#include "vfio/diagnosis.h"

#include <cerrno>

#include "vfio/uapi.h"

namespace lu::vfio {
namespace {

struct Row {
  unsigned long request;  // 0 = any request
  int err;
  ErrorKind kind;
  const char* hint;
};

using namespace uapi;
constexpr Row kTable[] = {
    {kGroupGetDeviceFd, EBUSY, ErrorKind::kBusy,
     "the device is open elsewhere, or preserved by LUO after a kexec: retrieve it through its session first"},
    {kGroupSetContainer, EBUSY, ErrorKind::kBusy, "the group is already attached to another container"},
    {kSetIommu, EINVAL, ErrorKind::kUnavailable, "the container does not support this IOMMU type; try another mode"},
    {kSetIommu, ENODEV, ErrorKind::kUnavailable, "no IOMMU driver backs this container: is the IOMMU enabled?"},
    {kDeviceBindIommufd, ENOTTY, ErrorKind::kUnavailable,
     "this kernel has no VFIO cdev (VFIO_DEVICE_BIND_IOMMUFD needs 6.6+ with CONFIG_VFIO_DEVICE_CDEV)"},
    {kDeviceBindIommufd, EBUSY, ErrorKind::kBusy, "the device is already bound to an iommufd"},
    {kDeviceBindIommufd, EINVAL, ErrorKind::kInvalidInput, "the fd given as iommufd is not /dev/iommu"},
    {kDeviceAttachIommufdPt, EINVAL, ErrorKind::kInvalidInput, "bind the device to the iommufd before attaching"},
    {kDeviceAttachIommufdPt, ENODEV, ErrorKind::kUnavailable, "the device has no IOMMU domain: enable the IOMMU"},
    {kIoasMapFile, ENOTTY, ErrorKind::kUnavailable, "this kernel has no IOMMU_IOAS_MAP_FILE (6.14+)"},
    {kIoasMapFile, EBADF, ErrorKind::kInvalidInput, "the fd is not a memfd (or is closed)"},
    {kIoasMap, ENOMEM, ErrorKind::kRefused, "pinning failed: raise RLIMIT_MEMLOCK (ulimit -l) or map less"},
    {kIoasMapFile, ENOMEM, ErrorKind::kRefused, "pinning failed: raise RLIMIT_MEMLOCK (ulimit -l) or map less"},
    {kIommuMapDma, ENOMEM, ErrorKind::kRefused, "pinning failed: raise RLIMIT_MEMLOCK (ulimit -l) or map less"},
    {kIoasMap, EEXIST, ErrorKind::kBusy, "the IOVA range overlaps an existing mapping"},
    {kIoasMapFile, EEXIST, ErrorKind::kBusy, "the IOVA range overlaps an existing mapping"},
    {kIommuMapDma, EEXIST, ErrorKind::kBusy, "the IOVA range overlaps an existing mapping"},
    {kIoasMap, EINVAL, ErrorKind::kInvalidInput, "IOVA, length or address not aligned to the IOMMU page size"},
    {kIommuMapDma, EINVAL, ErrorKind::kInvalidInput,
     "IOVA, size or vaddr not page aligned, or the IOVA lies outside the reported IOVA ranges"},
    {kIoasIovaRanges, EMSGSIZE, ErrorKind::kInternal, "the range array was too small (grow-and-retry failed)"},
    {kDeviceSetIrqs, EINVAL, ErrorKind::kInvalidInput,
     "more vectors than the device offers, or another interrupt type is already enabled"},
    {kDeviceReset, ENOTTY, ErrorKind::kUnavailable, "the device offers no reset method"},
    {kDeviceReset, EINVAL, ErrorKind::kUnavailable, "the device offers no reset method"},
    {0, ENOTTY, ErrorKind::kUnavailable, "this kernel or fd does not know the request"},
    {0, EPERM, ErrorKind::kSystem, "run as root (CAP_SYS_RAWIO for VFIO, CAP_IPC_LOCK for pinning)"},
    {0, EACCES, ErrorKind::kSystem, "run as root or give the user the /dev/vfio nodes"},
};

ErrorKind kind_of(int err) {
  switch (err) {
    case EBUSY: return ErrorKind::kBusy;
    case ENOENT:
    case ENODEV: return ErrorKind::kNotFound;
    case ENOTTY:
    case EOPNOTSUPP: return ErrorKind::kUnavailable;
    default: return ErrorKind::kSystem;
  }
}

}  // namespace

Error diagnose_ioctl(unsigned long request, int err, std::string subject) {
  const Row* generic = nullptr;
  for (const auto& row : kTable) {
    if (row.err != err) continue;
    if (row.request == request) return make_error(row.kind, request_name(request), std::move(subject), row.hint, err);
    if (row.request == 0 && !generic) generic = &row;
  }
  if (generic) return make_error(generic->kind, request_name(request), std::move(subject), generic->hint, err);
  return make_error(kind_of(err), request_name(request), std::move(subject), "see dmesg for the VFIO/IOMMU message",
                    err);
}

Error diagnose_open(const std::string& path, int err, std::string subject) {
  const char* hint = "check that the node exists and that you are root";
  ErrorKind kind = kind_of(err);
  if (err == ENOENT) {
    hint = "the node does not exist: load vfio-pci (and iommufd), and bind the device to vfio-pci";
    kind = ErrorKind::kUnavailable;
  } else if (err == EBUSY) {
    hint = "the device or group is open elsewhere, or preserved by LUO after a kexec (retrieve it first)";
  } else if (err == EACCES || err == EPERM) {
    hint = "run as root or give the user the /dev/vfio nodes";
  }
  return make_error(kind, "open " + path, std::move(subject), hint, err);
}

}  // namespace lu::vfio
