// The state envelope: magic, schema version, payload length, payload digest, then the cereal
// payload. Decoding checks all four before cereal sees a byte, and cereal failures on a payload
// that passed the digest (a hostile file) still come back as kCorruptState, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "state/records.h"

namespace lu::state {

inline constexpr char kMagic[8] = {'L', 'U', 'T', 'E', 'S', 'T', 'S', 'T'};
inline constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8;
inline constexpr std::size_t kMaxPayload = 4u << 20;  // real states are a few KiB

std::vector<std::uint8_t> encode(const RunState& state);
// `where` names the source (a path, "state memfd") for the error message.
Result<RunState> decode(std::span<const std::uint8_t> bytes, const std::string& where);

}  // namespace lu::state
