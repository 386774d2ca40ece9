// Test support: a RecordingIoctl that also answers with chosen return values (the fd from
// VFIO_GROUP_GET_DEVICE_FD, the result of VFIO_CHECK_EXTENSION) and records each raw argument
// pointer (integer-argument requests pass their value there).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tests/support/recording_ioctl.h"

namespace lu::testing {

class ScriptedIoctl final : public IoctlGateway {
 public:
  RecordingIoctl recorder;
  std::function<int(unsigned long)> return_value = [](unsigned long) { return 0; };
  std::vector<std::uintptr_t> raw_args;

  int call(int fd, unsigned long request, void* arg, int* err) override {
    raw_args.push_back(reinterpret_cast<std::uintptr_t>(arg));
    int rc = recorder.call(fd, request, arg, err);
    if (rc < 0) return rc;
    return return_value(request);
  }

  const std::vector<RecordedIoctl>& calls() const { return recorder.calls; }
  std::vector<unsigned long> requests() const {
    std::vector<unsigned long> out;
    for (const auto& c : recorder.calls) out.push_back(c.request);
    return out;
  }
};

}  // namespace lu::testing
