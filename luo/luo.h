// The LUO client: /dev/liveupdate, sessions, preserve / retrieve / finish.
// One interface for both backends: the kernel (ioctls) and the simulated machine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/fd.h"
#include "base/ioctl_gateway.h"
#include "base/result.h"

namespace lu::luo {

// Checks the name rules every kernel version agrees on: non-empty, at most 63 characters,
// no NUL inside. Errors are kInvalidInput before any ioctl is issued.
Status validate_session_name(const std::string& name);

// A session fd. Guarantees: dropping an outgoing Session closes its fd, which unpreserves
// everything in it (LUO rule); call release_fd() to hand it to the holder instead.
class Session {
 public:
  virtual ~Session() = default;
  virtual const std::string& name() const = 0;
  virtual int fd() const = 0;
  // Errors keep the kernel's errno: EEXIST token used, ENOENT no handler, EBUSY already preserved.
  virtual Status preserve_fd(int fd, std::uint64_t token) = 0;
  // ENOENT: unknown token, or an earlier retrieve of it failed (sticky).
  virtual Result<UniqueFd> retrieve_fd(std::uint64_t token) = 0;
  // EBUSY: a file in the session is not ready to finish (e.g. a VFIO device not yet retrieved).
  virtual Status finish() = 0;
  // nullopt when the kernel lacks SESSION_GET_NAME (6.19).
  virtual Result<std::optional<std::string>> get_name() = 0;
  [[nodiscard]] virtual SessionFd release_fd() = 0;
};

// An open /dev/liveupdate. Exclusive: close it (drop it) as soon as sessions are made.
class Device {
 public:
  virtual ~Device() = default;
  virtual Result<std::unique_ptr<Session>> create_session(const std::string& name) = 0;
  // ENOENT is an expected absence (first stage); kNotFound tells callers so.
  virtual Result<std::unique_ptr<Session>> retrieve_session(const std::string& name) = 0;
};

// Opens the device. ENOENT: LUO not enabled; EBUSY: someone else has it open; EIO: sticky
// deserialization failure after a kexec.
class Opener {
 public:
  virtual ~Opener() = default;
  virtual Result<std::unique_ptr<Device>> open() = 0;
  // Adopt a session fd handed over by another process (the holder) for ioctls.
  virtual std::unique_ptr<Session> adopt_session(SessionFd fd, std::string name) = 0;
};

// The kernel backend. `device_path` is a seam for tests; ioctls go through `gateway`.
std::unique_ptr<Opener> make_kernel_opener(IoctlGateway& gateway,
                                           std::string device_path = "/dev/liveupdate");

}  // namespace lu::luo
