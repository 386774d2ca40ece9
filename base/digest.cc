#include "base/digest.h"

#include <cstdio>
#include <cstring>

namespace lu {

std::uint64_t digest64(std::span<const std::uint8_t> bytes, std::uint64_t seed) {
  constexpr std::uint64_t kPrime = 0x100000001b3ULL;
  // Four independent lanes keep the multiply latency off the critical path.
  std::uint64_t lane[4] = {0xcbf29ce484222325ULL ^ seed, 0x84222325cbf29ce4ULL ^ seed,
                           0x9e3779b97f4a7c15ULL ^ seed, 0xc2b2ae3d27d4eb4fULL ^ seed};
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  while (n >= 32) {
    for (int i = 0; i < 4; ++i) {
      std::uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      lane[i] = (lane[i] ^ w) * kPrime;
    }
    p += 32;
    n -= 32;
  }
  std::uint64_t h = lane[0] ^ (lane[1] << 1 | lane[1] >> 63) ^ (lane[2] << 7 | lane[2] >> 57) ^
                    (lane[3] << 13 | lane[3] >> 51);
  while (n--) h = (h ^ *p++) * kPrime;
  h ^= bytes.size();
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace lu
