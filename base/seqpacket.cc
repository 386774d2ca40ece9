#include "base/seqpacket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lu {

Status send_message(int sock, const std::vector<std::uint8_t>& bytes, const std::vector<int>& fds) {
  if (fds.size() > kMaxFdsPerMessage)
    return fail(ErrorKind::kInternal, "sendmsg", "socket", "too many fds in one message");
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  // A zero-length seqpacket is indistinguishable from EOF on the other side.
  std::uint8_t filler = 0;
  if (bytes.empty()) iov = {&filler, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    return fail(errno == EPIPE || errno == ECONNRESET ? ErrorKind::kNotFound : ErrorKind::kSystem, "sendmsg",
                "socket", "the peer went away", errno);
  }
}

Result<Message> receive_message(int sock) {
  Message out;
  out.bytes.resize(kMaxMessage);
  iovec iov{out.bytes.data(), out.bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    if (e == ECONNRESET) return fail(ErrorKind::kNotFound, "recvmsg", "socket", "the peer closed the connection");
    return fail(ErrorKind::kSystem, "recvmsg", "socket", "the connection failed", e);
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if (n == 0) return fail(ErrorKind::kNotFound, "recvmsg", "socket", "the peer closed the connection");
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    return fail(ErrorKind::kCorruptState, "recvmsg", "socket", "a message or its fds were truncated");
  out.bytes.resize(static_cast<std::size_t>(n));
  return out;
}

Status wait_readable(int sock, int timeout_ms, const std::string& what) {
  pollfd p{sock, POLLIN, 0};
  for (;;) {
    int rc = ::poll(&p, 1, timeout_ms);
    if (rc > 0) return {};
    if (rc == 0) return fail(ErrorKind::kTimeout, "poll", what, "no answer within " + std::to_string(timeout_ms) + " ms");
    if (errno != EINTR) return fail(ErrorKind::kSystem, "poll", what, "waiting for an answer failed", errno);
  }
}

namespace {
Result<sockaddr_un> address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return fail(ErrorKind::kInvalidInput, "socket path", path, "the path is longer than 107 bytes; use a shorter --run-dir");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}
}  // namespace

Result<SocketFd> connect_seqpacket(const std::string& path) {
  auto addr = LU_TRY(address(path));
  SocketFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return fail(ErrorKind::kSystem, "socket", path, "could not create a unix socket", errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    return fail(e == ENOENT || e == ECONNREFUSED ? ErrorKind::kNotFound : ErrorKind::kSystem, "connect", path,
                "nothing is listening there", e);
  }
  return fd;
}

Result<SocketFd> listen_seqpacket(const std::string& path) {
  auto addr = LU_TRY(address(path));
  SocketFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return fail(ErrorKind::kSystem, "socket", path, "could not create a unix socket", errno);
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail(ErrorKind::kSystem, "bind", path, "check that the run directory exists and is writable", errno);
  if (::listen(fd.get(), 64) != 0) return fail(ErrorKind::kSystem, "listen", path, "", errno);
  return fd;
}

Result<std::pair<SocketFd, SocketFd>> seqpacket_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(ErrorKind::kSystem, "socketpair", "seqpacket", "check RLIMIT_NOFILE", errno);
  return std::pair<SocketFd, SocketFd>(SocketFd(sv[0]), SocketFd(sv[1]));
}

bool is_peer_closed(int sock) {
  pollfd p{sock, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLHUP | POLLERR)) != 0;
}

int peer_pid(int sock) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return cred.pid;
}

}  // namespace lu
