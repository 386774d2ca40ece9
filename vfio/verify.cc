#include "vfio/verify.h"

#include <algorithm>
#include <cstring>

namespace lu::vfio {

std::optional<Mismatch> first_mismatch(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> actual) {
  const std::size_t n = std::min(expected.size(), actual.size());
  // 64 KiB blocks: large enough that memcmp runs at full bandwidth, small enough that the byte
  // scan of the first bad block costs nothing.
  constexpr std::size_t kBlock = 64 * 1024;
  for (std::size_t at = 0; at < n; at += kBlock) {
    std::size_t len = std::min(kBlock, n - at);
    if (std::memcmp(expected.data() + at, actual.data() + at, len) == 0) continue;
    for (std::size_t i = at; i < at + len; ++i)
      if (expected[i] != actual[i]) return Mismatch{i, expected[i], actual[i]};
  }
  if (expected.size() != actual.size())
    return Mismatch{n, n < expected.size() ? expected[n] : std::uint8_t{0}, n < actual.size() ? actual[n] : std::uint8_t{0}};
  return std::nullopt;
}

}  // namespace lu::vfio
