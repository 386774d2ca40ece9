// The request/reply protocol of lu-test's local daemons (the simulated machine, the holder):
// one cereal-encoded Request per SOCK_SEQPACKET message, one Reply back; fds travel beside
// them by SCM_RIGHTS.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/seqpacket.h"

namespace lu::rpc {

struct Request {
  std::string op;
  std::vector<std::string> strs;
  std::vector<std::uint64_t> nums;
  std::vector<std::uint8_t> bytes;
  template <class A>
  void serialize(A& a) { a(op, strs, nums, bytes); }
};

struct Reply {
  int err = 0;  // the errno the real kernel would return, 0 on success
  std::string detail;
  std::vector<std::string> strs;
  std::vector<std::uint64_t> nums;
  std::vector<std::uint8_t> bytes;
  template <class A>
  void serialize(A& a) { a(err, detail, strs, nums, bytes); }
};

std::vector<std::uint8_t> encode_request(const Request& r);
std::vector<std::uint8_t> encode_reply(const Reply& r);
Result<Request> decode_request(const std::vector<std::uint8_t>& bytes);
Result<Reply> decode_reply(const std::vector<std::uint8_t>& bytes);

// Sends a request and waits for its reply (with fds). kNotFound when the machine dropped the
// connection, which is what a simulated kexec does to every client.
struct Answer {
  Reply reply;
  std::vector<UniqueFd> fds;
};
Result<Answer> call(int sock, const Request& request, const std::vector<int>& fds = {}, int timeout_ms = 30000);

}  // namespace lu::rpc
