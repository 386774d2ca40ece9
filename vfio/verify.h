// Destination-data verification: is what the DMA wrote identical to its source?
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace lu::vfio {

struct Mismatch {
  std::uint64_t offset = 0;  // first differing byte
  std::uint8_t expected = 0;
  std::uint8_t actual = 0;
};

// nullopt when `actual` equals `expected` byte for byte (sizes must match; a shorter `actual`
// mismatches at its end). Runs at memcmp speed: whole blocks are compared with memcmp and only
// the first differing block is scanned byte by byte (bench/verify_bench.cc measures the ratio).
std::optional<Mismatch> first_mismatch(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> actual);

}  // namespace lu::vfio
