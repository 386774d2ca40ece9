#include "base/ioctl_gateway.h"

#include <sys/ioctl.h>

#include <cerrno>

namespace lu {
namespace {
class SystemIoctl final : public IoctlGateway {
 public:
  int call(int fd, unsigned long request, void* arg, int* err) override {
    int rc = ::ioctl(fd, request, arg);
    *err = rc < 0 ? errno : 0;
    return rc;
  }
};
}  // namespace

IoctlGateway& system_ioctl() {
  static SystemIoctl gateway;  // stateless: the only static in the tree, and it holds nothing
  return gateway;
}

}  // namespace lu
