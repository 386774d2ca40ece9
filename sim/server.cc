#include <utility>  // before Asio: some Boost versions use std::exchange without it

#include "sim/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>

#include "base/seqpacket.h"
#include "base/rpc.h"

namespace lu::sim {
using rpc::Request;
using rpc::Reply;
using rpc::decode_request;
using rpc::encode_reply;
namespace {

namespace asio = boost::asio;

struct Connection {
  enum class Kind { kControl, kSession };
  Connection(asio::io_context& io, int fd, Kind k) : stream(io, fd), kind(k) {}
  asio::posix::stream_descriptor stream;
  Kind kind;
  SessionId session = 0;
  bool closed = false;
};
using ConnectionPtr = std::shared_ptr<Connection>;

std::string memfd_link(int fd) {
  char path[64], target[256];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return {};
  return std::string(target, static_cast<std::size_t>(n));
}

class Server {
 public:
  explicit Server(const ServerOptions& options)
      : options_(options), machine_(options.profile), idle_timer_(io_) {
    for (Fault f : options.faults) machine_.add_fault(f);
  }

  Status run(int ready_fd) {
    auto listener = LU_TRY(listen_seqpacket(options_.socket_path));
    listener_ = std::make_unique<asio::posix::stream_descriptor>(io_, listener.release());
    accept_next();
    arm_idle_timer();
    if (ready_fd >= 0) {
      char ok = 1;
      (void)!::write(ready_fd, &ok, 1);
      ::close(ready_fd);
    }
    io_.run();
    ::unlink(options_.socket_path.c_str());
    return {};
  }

 private:
  void arm_idle_timer() {
    idle_timer_.expires_after(std::chrono::seconds(options_.idle_exit_seconds));
    idle_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
  }

  void accept_next() {
    listener_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      int fd = ::accept4(listener_->native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) watch(add(fd, Connection::Kind::kControl));
      accept_next();
    });
  }

  ConnectionPtr add(int fd, Connection::Kind kind) {
    auto c = std::make_shared<Connection>(io_, fd, kind);
    connections_.emplace(fd, c);
    return c;
  }

  void watch(const ConnectionPtr& c) {
    c->stream.async_wait(asio::posix::stream_descriptor::wait_read, [this, c](const boost::system::error_code& ec) {
      if (ec || c->closed) return;
      arm_idle_timer();
      auto message = receive_message(c->stream.native_handle());
      if (!message) {
        drop(c);
        return;
      }
      auto request = decode_request(message->bytes);
      Reply reply;
      std::vector<UniqueFd> out_fds;
      if (!request) {
        reply.err = EPROTO;
        reply.detail = request.error().message();
      } else {
        dispatch(c, *request, message->fds, reply, out_fds);
      }
      if (c->closed) return;  // the machine kexec'd under this connection: no reply, as in reality
      std::vector<int> raw;
      for (auto& fd : out_fds) raw.push_back(fd.get());
      if (!send_message(c->stream.native_handle(), encode_reply(reply), raw)) {
        drop(c);
        return;
      }
      watch(c);
    });
  }

  void drop(const ConnectionPtr& c) {
    if (c->closed) return;
    c->closed = true;
    if (c->kind == Connection::Kind::kSession) machine_.luo().close_session(c->session);
    if (luo_owner_ == c.get()) luo_owner_ = nullptr;
    int fd = c->stream.native_handle();
    boost::system::error_code ignored;
    c->stream.cancel(ignored);
    c->stream.close(ignored);
    connections_.erase(fd);
  }

  // Sessions whose every client fd is closed are unpreserved now, not when the loop gets to them:
  // the kexec must see exactly what a kernel would.
  void reap_closed_sessions() {
    std::vector<ConnectionPtr> gone;
    for (auto& [fd, c] : connections_)
      if (c->kind == Connection::Kind::kSession && is_peer_closed(fd)) gone.push_back(c);
    for (auto& c : gone) drop(c);
  }

  FileIdentity classify(int fd) {
    FileIdentity id;
    struct stat st {};
    if (::fstat(fd, &st) == 0) id.inode = static_cast<std::uint64_t>(st.st_ino);
    if (memfd_link(fd).rfind("/memfd:", 0) == 0) id.kind = "memfd";
    return id;
  }

  void dispatch(const ConnectionPtr& c, const Request& r, std::vector<UniqueFd>& in_fds, Reply& reply,
                std::vector<UniqueFd>& out_fds) {
    auto set_error = [&](const Error& e) {
      reply.err = e.err ? e.err : EINVAL;
      reply.detail = e.message();
    };
    auto str = [&](std::size_t i) { return i < r.strs.size() ? r.strs[i] : std::string(); };
    auto num = [&](std::size_t i) { return i < r.nums.size() ? r.nums[i] : 0; };
    auto& luo = machine_.luo();

    if (c->kind == Connection::Kind::kSession) {
      if (r.op == "preserve_fd") {
        if (in_fds.empty()) return void(reply.err = EBADF);
        auto identity = classify(in_fds[0].get());
        if (auto st = luo.preserve_fd(c->session, std::move(in_fds[0]), identity, num(0)); !st) set_error(st.error());
      } else if (r.op == "retrieve_fd") {
        auto fd = luo.retrieve_fd(c->session, num(0), [](const std::string&) -> Result<UniqueFd> {
          return fail(ErrorKind::kNotFound, "open device", "", "no devices on this machine yet");
        });
        if (!fd) set_error(fd.error());
        else out_fds.push_back(std::move(*fd));
      } else if (r.op == "finish") {
        if (auto st = luo.finish(c->session, [](const std::string&) { return true; }); !st) set_error(st.error());
      } else if (r.op == "get_name") {
        auto name = luo.name(c->session);
        if (!name) set_error(name.error());
        else reply.strs.push_back(*name);
      } else {
        reply.err = ENOTTY;
      }
      return;
    }

    if (r.op == "boot_facts") {
      reply.strs = {machine_.cmdline(), machine_.boot_id(), machine_.release(), kernel_profile_name(machine_.profile())};
      reply.nums = {machine_.boots()};
    } else if (r.op == "luo_open") {
      if (int e = luo.open_error()) reply.err = e;
      else if (luo_owner_ && luo_owner_ != c.get()) reply.err = EBUSY;
      else luo_owner_ = c.get();
    } else if (r.op == "create_session" || r.op == "retrieve_session") {
      if (luo_owner_ != c.get()) return void(reply.err = EBADF);
      auto id = r.op == "create_session" ? luo.create_session(str(0)) : luo.retrieve_session(str(0));
      if (!id) return set_error(id.error());
      auto pair = seqpacket_pair();
      if (!pair) return set_error(pair.error());
      auto session = add(pair->first.release(), Connection::Kind::kSession);
      session->session = *id;
      watch(session);
      out_fds.push_back(UniqueFd(pair->second.release()));
    } else if (r.op == "kexec_load") {
      machine_.arm({str(0), str(1), str(2)});
    } else if (r.op == "kexec_unload") {
      machine_.disarm();
    } else if (r.op == "kexec_loaded") {
      reply.nums = {machine_.armed() ? 1u : 0u};
    } else if (r.op == "register_holder") {
      holder_pid_ = peer_pid(c->stream.native_handle());
    } else if (r.op == "add_fault") {
      auto f = parse_fault(str(0));
      if (!f) return void(reply.err = EINVAL);
      machine_.add_fault(*f);
    } else if (r.op == "kexec") {
      kexec(reply);
    } else if (r.op == "shutdown") {
      io_.stop();
    } else {
      reply.err = ENOTTY;
      reply.detail = "unknown request " + r.op;
    }
  }

  void kexec(Reply& reply) {
    if (machine_.has_fault(Fault::kHolderKilled) && holder_pid_ > 0) {
      ::kill(holder_pid_, SIGKILL);
      // The dead process's fds close asynchronously; give the kernel a moment to tear them down.
      for (int i = 0; i < 200; ++i) {
        bool any_open = false;
        for (auto& [fd, c] : connections_)
          if (c->kind == Connection::Kind::kSession && !is_peer_closed(fd)) any_open = true;
        if (!any_open) break;
        ::usleep(10000);
      }
    }
    reap_closed_sessions();
    if (int e = machine_.check_freeze()) {
      reply.err = e;
      reply.detail = e == EINVAL ? "no kernel is loaded" : "a preserved file refused to freeze";
      return;
    }
    machine_.kexec();
    holder_pid_ = -1;
    luo_owner_ = nullptr;
    std::vector<ConnectionPtr> all;
    for (auto& [fd, c] : connections_) all.push_back(c);
    for (auto& c : all) {
      c->kind = Connection::Kind::kControl;  // the old kernel's sessions are gone with it
      drop(c);
    }
  }

  ServerOptions options_;
  asio::io_context io_;
  std::unique_ptr<asio::posix::stream_descriptor> listener_;
  std::map<int, ConnectionPtr> connections_;
  MachineModel machine_;
  Connection* luo_owner_ = nullptr;
  int holder_pid_ = -1;
  asio::steady_timer idle_timer_;
};

}  // namespace

Status serve(const ServerOptions& options, int ready_fd) {
  ::signal(SIGPIPE, SIG_IGN);
  Server server(options);
  return server.run(ready_fd);
}

}  // namespace lu::sim
