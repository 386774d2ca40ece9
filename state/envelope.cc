#include "state/envelope.h"

#include <cstring>

#include "base/digest.h"

namespace lu::state {
namespace {

template <class T>
void put(std::vector<std::uint8_t>& out, T v) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&v);
  out.insert(out.end(), bytes, bytes + sizeof v);
}
template <class T>
T get(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

}  // namespace

std::vector<std::uint8_t> seal(const EnvelopeKind& kind, const std::string& payload) {
  std::vector<std::uint8_t> out(kind.magic, kind.magic + sizeof kind.magic);
  put<std::uint32_t>(out, kind.version);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
  put<std::uint64_t>(out, digest64({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()}));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<std::span<const std::uint8_t>> unseal(const EnvelopeKind& kind, std::span<const std::uint8_t> bytes,
                                            const std::string& where) {
  const std::string op = std::string("decode ") + kind.what;
  auto corrupt = [&](std::string hint) { return fail(ErrorKind::kCorruptState, op, where, std::move(hint)); };
  const std::string not_ours = std::string("this is not an lu-test ") + kind.what + " file (bad magic)";
  if (bytes.size() < kEnvelopeHeader) {
    if (bytes.size() >= sizeof kind.magic && std::memcmp(bytes.data(), kind.magic, sizeof kind.magic) != 0)
      return corrupt(not_ours);
    return corrupt("it is truncated: " + std::to_string(bytes.size()) + " bytes, shorter than its header");
  }
  if (std::memcmp(bytes.data(), kind.magic, sizeof kind.magic) != 0) return corrupt(not_ours);
  auto version = get<std::uint32_t>(bytes, 8);
  if (version != kind.version)
    return fail(ErrorKind::kIncompatibleState, op, where,
                std::string("written with ") + kind.what + " schema " + std::to_string(version) +
                    ", this lu-test reads schema " + std::to_string(kind.version) +
                    ": use the lu-test that wrote it (a state from before an upgrade cannot be continued)");
  auto length = get<std::uint32_t>(bytes, 12);
  if (length > kind.max_payload) return corrupt("the header claims an impossible payload of " + std::to_string(length) + " bytes");
  if (bytes.size() - kEnvelopeHeader < length)
    return corrupt("it is truncated: the header promises " + std::to_string(length) + " payload bytes, " +
                   std::to_string(bytes.size() - kEnvelopeHeader) + " are present");
  if (bytes.size() - kEnvelopeHeader > length) return corrupt("trailing bytes after the payload");
  auto payload = bytes.subspan(kEnvelopeHeader, length);
  if (digest64(payload) != get<std::uint64_t>(bytes, 16))
    return corrupt("the payload does not match its digest: it was modified or damaged");
  return payload;
}

}  // namespace lu::state
