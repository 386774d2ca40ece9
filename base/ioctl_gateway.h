// The one place where lu-test calls ioctl(2). Kernel backends take a gateway so tests can
// record the exact request numbers and argument bytes without a kernel that has the feature.
#pragma once

#include <cstdint>

namespace lu {

class IoctlGateway {
 public:
  virtual ~IoctlGateway() = default;
  // Returns what ioctl(2) returns; on -1 the errno is returned in *err (never read later).
  virtual int call(int fd, unsigned long request, void* arg, int* err) = 0;
};

// Forwards to ioctl(2).
IoctlGateway& system_ioctl();

}  // namespace lu
