// Move-only owners for file descriptors, typed by what the fd refers to so that a
// session fd cannot be passed where a device fd is wanted.
#pragma once

#include <unistd.h>

#include <utility>

namespace lu {

template <class Tag>
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    // close() errors cannot be acted on in a destructor; EINTR still releases the fd on Linux.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  // Re-tag: the caller asserts what the fd refers to (e.g. a retrieved fd is a memfd).
  template <class Other>
  Fd<Other> into() && {
    return Fd<Other>(release());
  }

 private:
  int fd_ = -1;
};

struct AnyFdTag {};
struct LuoDeviceTag {};
struct SessionTag {};
struct MemfdTag {};
struct SocketTag {};
struct EventfdTag {};
struct VfioDeviceTag {};
struct VfioGroupTag {};
struct VfioContainerTag {};
struct IommufdTag {};

using UniqueFd = Fd<AnyFdTag>;
using LuoDeviceFd = Fd<LuoDeviceTag>;
using SessionFd = Fd<SessionTag>;
using MemFd = Fd<MemfdTag>;
using SocketFd = Fd<SocketTag>;
using EventFd = Fd<EventfdTag>;
using VfioDeviceFd = Fd<VfioDeviceTag>;
using VfioGroupFd = Fd<VfioGroupTag>;
using VfioContainerFd = Fd<VfioContainerTag>;
using IommuFd = Fd<IommufdTag>;

}  // namespace lu
