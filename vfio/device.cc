#include "vfio/device.h"

#include <sys/eventfd.h>

#include <cerrno>

namespace lu::vfio {

Status Device::disable_interrupts() {
  for (IrqKind kind : {IrqKind::kMsix, IrqKind::kMsi})
    if (irqs_enabled(kind)) LU_TRY_VOID(disable_irqs(kind));
  return {};
}

Result<std::vector<EventFd>> make_eventfds(std::size_t count) {
  std::vector<EventFd> fds;
  for (std::size_t i = 0; i < count; ++i) {
    EventFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) return fail(ErrorKind::kSystem, "eventfd", "vector " + std::to_string(i), "check RLIMIT_NOFILE", errno);
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace lu::vfio
