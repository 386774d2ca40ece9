// The envelope every persistent lu-test record travels in: magic, schema version, payload
// length, payload digest, then the cereal payload. Opening checks all four before cereal sees a
// byte; cereal failures on a payload that passed its digest (a hostile file) still come back as
// kCorruptState, never a crash. The run state and the loop's plan and ledger each have their own
// magic and version.
#pragma once

#include <cereal/archives/binary.hpp>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "base/bounded_archive.h"
#include "base/result.h"

namespace lu::state {

struct EnvelopeKind {
  char magic[8];
  std::uint32_t version;
  const char* what;          // "state", "loop plan", ... for messages
  std::size_t max_payload;   // real records are a few KiB
};

inline constexpr std::size_t kEnvelopeHeader = 8 + 4 + 4 + 8;

std::vector<std::uint8_t> seal(const EnvelopeKind& kind, const std::string& payload);
// The payload, once magic, version, length and digest hold.
Result<std::span<const std::uint8_t>> unseal(const EnvelopeKind& kind, std::span<const std::uint8_t> bytes,
                                            const std::string& where);

template <class T>
std::vector<std::uint8_t> encode_record(const EnvelopeKind& kind, const T& record) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive archive(os);
    archive(record);
  }
  return seal(kind, os.str());
}

template <class T>
Result<T> decode_record(const EnvelopeKind& kind, std::span<const std::uint8_t> bytes, const std::string& where) {
  auto payload = LU_TRY(unseal(kind, bytes, where));
  T record;
  try {
    BoundedInputArchive archive(payload);
    archive(record);
    if (archive.remaining() != 0)
      return fail(ErrorKind::kCorruptState, std::string("decode ") + kind.what, where, "the payload has bytes no record claims");
  } catch (const std::exception& e) {
    return fail(ErrorKind::kCorruptState, std::string("decode ") + kind.what, where,
                std::string("the payload passed its digest but does not parse (") + e.what() +
                    "): it was crafted or written by a different build");
  }
  return record;
}

}  // namespace lu::state
