#include "state/codec.h"

#include "state/envelope.h"

namespace lu::state {
namespace {

constexpr EnvelopeKind kStateKind{{'L', 'U', 'T', 'E', 'S', 'T', 'S', 'T'}, kSchemaVersion, "state", kMaxPayload};

bool lower_hex(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode(const RunState& state) { return encode_record(kStateKind, state); }

Result<RunState> decode(std::span<const std::uint8_t> bytes, const std::string& where) {
  auto state = LU_TRY(decode_record<RunState>(kStateKind, bytes, where));
  if (!lower_hex(state.run_id) || !lower_hex(state.nonce))
    return fail(ErrorKind::kCorruptState, "decode state", where,
                "the run id or nonce is not lower-case hex: the state was crafted (they name record files)");
  return state;
}

}  // namespace lu::state
