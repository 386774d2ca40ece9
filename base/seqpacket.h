// AF_UNIX SOCK_SEQPACKET messages carrying bytes plus fds (SCM_RIGHTS). Message boundaries are
// kept by the socket, so no framing; fds arrive with O_CLOEXEC set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace lu {

inline constexpr std::size_t kMaxMessage = 256 * 1024;
inline constexpr std::size_t kMaxFdsPerMessage = 16;

struct Message {
  std::vector<std::uint8_t> bytes;
  std::vector<UniqueFd> fds;
};

Status send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds = {});
// kNotFound with op "recvmsg" and err 0 when the peer closed the socket (EOF).
Result<Message> receive_message(int sock);
// Waits until the socket is readable or `timeout_ms` passes (kTimeout on timeout).
Status wait_readable(int sock, int timeout_ms, const std::string& what);

Result<SocketFd> connect_seqpacket(const std::string& path);
Result<SocketFd> listen_seqpacket(const std::string& path);
Result<std::pair<SocketFd, SocketFd>> seqpacket_pair();

bool is_peer_closed(int sock);  // POLLHUP without blocking
int peer_pid(int sock);         // SO_PEERCRED, -1 if unknown

}  // namespace lu
