// A gateway that records every ioctl (request and argument bytes) and answers from a script,
// so kernel-backend encodings are tested without a kernel that has the feature.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "base/ioctl_gateway.h"

namespace lu::testing {

struct RecordedIoctl {
  int fd;
  unsigned long request;
  std::vector<std::uint8_t> bytes;  // the argument as passed in, sized by the test's expectation
};

class RecordingIoctl final : public IoctlGateway {
 public:
  // How many bytes of the argument to capture for a request (the struct size under test).
  std::function<std::size_t(unsigned long)> arg_size = [](unsigned long) { return 0; };
  // Called with the live argument; return 0 or a positive errno to fail with.
  std::function<int(int, unsigned long, void*)> respond = [](int, unsigned long, void*) { return 0; };

  int call(int fd, unsigned long request, void* arg, int* err) override {
    RecordedIoctl rec{fd, request, {}};
    std::size_t n = arg ? arg_size(request) : 0;
    rec.bytes.resize(n);
    if (n) std::memcpy(rec.bytes.data(), arg, n);
    calls.push_back(std::move(rec));
    int e = respond(fd, request, arg);
    *err = e;
    return e == 0 ? 0 : -1;
  }

  std::vector<RecordedIoctl> calls;
};

template <class T>
T read_at(const std::vector<std::uint8_t>& bytes, std::size_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

}  // namespace lu::testing
