#include "state/codec.h"

#include <cereal/archives/binary.hpp>
#include <cstring>
#include <sstream>

#include "base/bounded_archive.h"
#include "base/digest.h"

namespace lu::state {
namespace {

template <class T>
void put(std::vector<std::uint8_t>& out, T v) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&v);
  for (std::size_t i = 0; i < sizeof v; ++i) out.push_back(bytes[i]);
}
template <class T>
T get(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

bool lower_hex(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode(const RunState& state) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive archive(os);
    archive(state);
  }
  std::string payload = os.str();
  std::vector<std::uint8_t> out(kMagic, kMagic + sizeof kMagic);
  put<std::uint32_t>(out, kSchemaVersion);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
  put<std::uint64_t>(out, digest64({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<RunState> decode(std::span<const std::uint8_t> bytes, const std::string& where) {
  auto corrupt = [&](std::string hint) {
    return fail(ErrorKind::kCorruptState, "decode state", where, std::move(hint));
  };
  if (bytes.size() < kHeaderSize) {
    if (bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
      return corrupt("this is not an lu-test state file (bad magic)");
    return corrupt("the state is truncated: " + std::to_string(bytes.size()) + " bytes, shorter than its header");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return corrupt("this is not an lu-test state file (bad magic)");
  auto version = get<std::uint32_t>(bytes, 8);
  if (version != kSchemaVersion)
    return fail(ErrorKind::kIncompatibleState, "decode state", where,
                "written with state schema " + std::to_string(version) + ", this lu-test reads schema " +
                    std::to_string(kSchemaVersion) + ": run the post stage with the lu-test that ran the pre stage");
  auto length = get<std::uint32_t>(bytes, 12);
  if (length > kMaxPayload) return corrupt("the header claims an impossible payload of " + std::to_string(length) + " bytes");
  if (bytes.size() - kHeaderSize < length)
    return corrupt("the state is truncated: the header promises " + std::to_string(length) + " payload bytes, " +
                   std::to_string(bytes.size() - kHeaderSize) + " are present");
  if (bytes.size() - kHeaderSize > length) return corrupt("trailing bytes after the payload");
  auto payload = bytes.subspan(kHeaderSize, length);
  if (digest64(payload) != get<std::uint64_t>(bytes, 16))
    return corrupt("the payload does not match its digest: the state was modified or damaged");
  RunState state;
  try {
    BoundedInputArchive archive(payload);
    archive(state);
    if (archive.remaining() != 0) return corrupt("the payload has bytes no record claims");
  } catch (const std::exception& e) {
    return corrupt(std::string("the payload passed its digest but does not parse (") + e.what() +
                   "): it was crafted or written by a different build");
  }
  if (!lower_hex(state.run_id) || !lower_hex(state.nonce))
    return corrupt("the run id or nonce is not lower-case hex: the state was crafted (they name record files)");
  return state;
}

}  // namespace lu::state
