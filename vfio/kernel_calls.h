// Private to the kernel backend: every VFIO / IOMMUFD ioctl goes through call(), which captures
// errno right after the call and builds the Error with the request's name and the BDF.
#pragma once

#include <string>

#include "base/ioctl_gateway.h"
#include "base/result.h"
#include "vfio/diagnosis.h"

namespace lu::vfio {

class KernelCalls {
 public:
  KernelCalls(IoctlGateway& gateway, std::string subject) : gateway_(&gateway), subject_(std::move(subject)) {}

  // The ioctl's non-negative return value (a new fd for GROUP_GET_DEVICE_FD), or the Error.
  Result<int> call(int fd, unsigned long request, void* arg) const {
    int err = 0;
    int rc = gateway_->call(fd, request, arg, &err);
    if (rc < 0) return fail(diagnose_ioctl(request, err, subject_));
    return rc;
  }
  // The raw answer for requests whose errno steers the caller (EMSGSIZE, ENOTTY): rc and errno.
  int call_raw(int fd, unsigned long request, void* arg, int* err) const {
    return gateway_->call(fd, request, arg, err);
  }
  // Integer-argument requests (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) pass the value as the arg.
  Result<int> call_value(int fd, unsigned long request, unsigned long value) const {
    return call(fd, request, reinterpret_cast<void*>(value));
  }

  const std::string& subject() const { return subject_; }
  IoctlGateway& gateway() const { return *gateway_; }

 private:
  IoctlGateway* gateway_;
  std::string subject_;
};

}  // namespace lu::vfio
