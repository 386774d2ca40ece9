// A 64-bit content digest (FNV-1a over 64-bit lanes with a final mix). Not cryptographic:
// it detects accidental change (a flipped byte, a truncated copy), which is what continuity
// checks and the state integrity check need.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace lu {

std::uint64_t digest64(std::span<const std::uint8_t> bytes, std::uint64_t seed = 0);
std::string hex64(std::uint64_t v);

}  // namespace lu
