// errno -> kind and one sentence of diagnosis for every VFIO / IOMMUFD request lu-test issues.
#pragma once

#include <string>

#include "base/error.h"

namespace lu::vfio {

// The Error for a failed ioctl: op = uapi::request_name(request), the errno, subject (the BDF).
Error diagnose_ioctl(unsigned long request, int err, std::string subject);
// The Error for a failed open(2) of a VFIO node (cdev, group, container, /dev/iommu).
Error diagnose_open(const std::string& path, int err, std::string subject);

}  // namespace lu::vfio
