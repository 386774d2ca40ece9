// CLOCK_REALTIME in nanoseconds: the only clock whose readings mean something across a kexec
// (the monotonic clock restarts with the new kernel).
#pragma once

#include <time.h>

#include <cstdint>

namespace lu {

inline std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace lu
