// "0x1f"-style hex for error messages and KTAP facts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace lu {

inline std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace lu
