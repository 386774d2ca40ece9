#include "vfio/device.h"

#include <sys/eventfd.h>

#include <cerrno>

namespace lu::vfio {
namespace {

std::unexpected<Error> no_access(const Device& dev, const char* what) {
  return fail(ErrorKind::kUnavailable, what, dev.bdf(), "this device backend offers no such BAR access", EOPNOTSUPP);
}

}  // namespace

Result<std::uint8_t> Device::bar_read8(int, std::uint64_t) { return no_access(*this, "8-bit BAR read"); }
Result<std::uint16_t> Device::bar_read16(int, std::uint64_t) { return no_access(*this, "16-bit BAR read"); }
Status Device::bar_write8(int, std::uint64_t, std::uint8_t) { return no_access(*this, "8-bit BAR write"); }
Status Device::bar_write16(int, std::uint64_t, std::uint16_t) { return no_access(*this, "16-bit BAR write"); }
Status Device::bar_submit64(int, std::uint64_t, std::span<const std::uint8_t, 64>) {
  return no_access(*this, "64-byte BAR submission");
}

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
