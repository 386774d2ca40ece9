#include "base/rpc.h"

#include <cereal/archives/binary.hpp>

#include "base/bounded_archive.h"
#include <sstream>

namespace lu::rpc {
namespace {
template <class T>
std::vector<std::uint8_t> encode(const T& v) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive a(os);
    a(v);
  }
  auto s = os.str();
  return {s.begin(), s.end()};
}
template <class T>
Result<T> decode(const std::vector<std::uint8_t>& bytes, const char* what) {
  T v;
  try {
    BoundedInputArchive a(bytes);
    a(v);
  } catch (const std::exception& e) {
    return fail(ErrorKind::kCorruptState, "decode", what, std::string("malformed message: ") + e.what());
  }
  return v;
}
}  // namespace

std::vector<std::uint8_t> encode_request(const Request& r) { return encode(r); }
std::vector<std::uint8_t> encode_reply(const Reply& r) { return encode(r); }
Result<Request> decode_request(const std::vector<std::uint8_t>& b) { return decode<Request>(b, "request"); }
Result<Reply> decode_reply(const std::vector<std::uint8_t>& b) { return decode<Reply>(b, "reply"); }

Result<Answer> call(int sock, const Request& request, const std::vector<int>& fds, int timeout_ms) {
  LU_TRY_VOID(send_message(sock, encode_request(request), fds));
  LU_TRY_VOID(wait_readable(sock, timeout_ms, "lu-test daemon, " + request.op));
  auto message = LU_TRY(receive_message(sock));
  Answer answer{LU_TRY(decode_reply(message.bytes)), std::move(message.fds)};
  return answer;
}

}  // namespace lu::rpc
