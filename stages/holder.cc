#include <utility>  // before Asio

#include "stages/holder.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <set>

#include "base/clock.h"
#include "base/rpc.h"
#include "base/seqpacket.h"
#include "base/files.h"
#include "stages/holder_guardian.h"

namespace lu::stages {
namespace {

namespace asio = boost::asio;

class Holder {
 public:
  Holder(const HolderSpec& spec, std::vector<HeldFd> held, std::unique_ptr<Machine> machine, SocketFd listener,
         UniqueFd guardian)
      : spec_(spec), held_(std::move(held)), machine_(std::move(machine)),
        listener_(io_, listener.release()), machine_link_(io_), guardian_(std::move(guardian)),
        since_(realtime_ns()) {}

  void run() {
    accept_next();
    watch_machine();
    io_.run();
  }

 private:
  // A machine that goes away (a simulator stopped, or kexec'd by someone else's `kexec -e`)
  // leaves nothing to hold: the holder must not go on pretending.
  void watch_machine() {
    int fd = machine_->liveness_fd();
    if (fd < 0) return;
    machine_link_.assign(::dup(fd));
    machine_link_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      if (!is_peer_closed(machine_link_.native_handle())) return watch_machine_again();
      std::fprintf(stderr, "holder %d: the machine went away (stopped or kexec'd): nothing left to hold\n", ::getpid());
      end();
    });
  }
  void watch_machine_again() {
    machine_link_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (!ec && is_peer_closed(machine_link_.native_handle())) end();
      else if (!ec) watch_machine_again();
    });
  }

  // Every clean end: the guardian stands down first.
  void end() {
    release_guardian(guardian_.get());
    ::unlink(spec_.socket_path.c_str());
    io_.stop();
  }

  void accept_next() {
    listener_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      int fd = ::accept4(listener_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) serve(std::make_shared<asio::posix::stream_descriptor>(io_, fd));
      accept_next();
    });
  }

  void serve(std::shared_ptr<asio::posix::stream_descriptor> conn) {
    conn->async_wait(asio::posix::stream_descriptor::wait_read, [this, conn](const boost::system::error_code& ec) {
      if (ec) return;
      auto message = receive_message(conn->native_handle());
      if (!message) return;  // the client went away; dropping conn closes it
      auto request = rpc::decode_request(message->bytes);
      rpc::Reply reply;
      bool exit_after = false;
      if (!request) {
        reply.err = EPROTO;
      } else if (request->op == "status") {
        reply.strs = {spec_.run_id, spec_.nonce, spec_.backend};
        for (auto& h : held_) reply.strs.push_back(h.label);
        reply.nums = {static_cast<std::uint64_t>(::getpid()), spec_.iteration, static_cast<std::uint64_t>(since_)};
      } else if (request->op == "kexec") {
        std::fprintf(stderr, "holder %d: performing the kexec with %zu fds held\n", ::getpid(), held_.size());
        auto now = std::to_string(realtime_ns()) + "\n";
        if (!spec_.kexec_note.empty()) (void)write_file_atomic(spec_.kexec_note, {now.begin(), now.end()});
        auto st = machine_->kexec().execute();
        if (!st) {
          reply.err = st.error().err ? st.error().err : EAGAIN;
          reply.detail = st.error().message();
          std::fprintf(stderr, "holder: %s\n", reply.detail.c_str());
        } else {
          exit_after = true;  // the machine rebooted under us (simulated); nothing is left to hold
        }
      } else if (request->op == "flip-memfd-byte") {
        flip_memfd_byte(reply);
      } else if (request->op == "cancel") {
        exit_after = true;
      } else {
        reply.err = ENOTTY;
      }
      (void)send_message(conn->native_handle(), rpc::encode_reply(reply));
      if (exit_after) return end();
      serve(conn);
    });
  }

  void flip_memfd_byte(rpc::Reply& reply) {
    for (auto& h : held_) {
      if (h.label.rfind("memfd ", 0) != 0) continue;
      off_t size = ::lseek(h.fd, 0, SEEK_END);
      if (size < 2) continue;
      std::uint8_t byte = 0;
      if (::pread(h.fd, &byte, 1, size / 2) != 1) continue;
      byte ^= 0x10;
      if (::pwrite(h.fd, &byte, 1, size / 2) != 1) continue;
      reply.strs = {h.label + " at offset " + std::to_string(size / 2)};
      return;
    }
    reply.err = ENOENT;
    reply.detail = "the holder keeps no memfd larger than one byte";
  }

  const HolderSpec& spec_;
  std::vector<HeldFd> held_;
  std::unique_ptr<Machine> machine_;
  asio::io_context io_;
  asio::posix::stream_descriptor listener_;
  asio::posix::stream_descriptor machine_link_;
  UniqueFd guardian_;
  std::int64_t since_;
};

[[noreturn]] void holder_main(const HolderSpec& spec, std::vector<HeldFd> held, int ready_fd) {
  std::set<int> keep{ready_fd};
  for (auto& h : held) keep.insert(h.fd);
  close_all_except(keep);
  int null = ::open("/dev/null", O_RDWR);
  int log = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ::dup2(null, 0);
  ::dup2(log >= 0 ? log : null, 1);
  ::dup2(log >= 0 ? log : null, 2);
  // A post stage that re-arms (a loop) blocks its stop signals; the holder must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  auto listener = listen_seqpacket(spec.socket_path);
  auto machine = spec.machine->reconnect();
  Result<UniqueFd> guardian = fail(ErrorKind::kInternal, "", "", "");
  if (machine) {
    auto facts = (*machine)->boot_facts();
    guardian = facts ? start_guardian(spec, facts->boot_id) : fail(facts.error());
  }
  if (!guardian) std::fprintf(stderr, "holder: no guardian: %s\n", guardian.error().message().c_str());
  char status = listener && machine && guardian ? 1 : 0;
  if (!listener) std::fprintf(stderr, "holder: %s\n", listener.error().message().c_str());
  if (!machine) std::fprintf(stderr, "holder: %s\n", machine.error().message().c_str());
  if (status)
    if (auto st = (*machine)->announce_holder(); !st) std::fprintf(stderr, "holder: %s\n", st.error().message().c_str());
  (void)!::write(ready_fd, &status, 1);
  ::close(ready_fd);
  if (!status) ::_exit(1);
  ::unlink(spec.death_note.c_str());  // a note of an earlier holder is history now
  Holder holder(spec, std::move(held), std::move(*machine), std::move(*listener), std::move(*guardian));
  holder.run();
  ::_exit(0);
}

Result<rpc::Answer> ask(const std::string& socket_path, const char* op, int timeout_ms) {
  auto conn = connect_seqpacket(socket_path);
  if (!conn)
    return fail(ErrorKind::kNoState, op, socket_path,
                "no holder is running: nothing is armed. Run `lu-test stage pre` first");
  return rpc::call(conn->get(), {op, {}, {}, {}}, {}, timeout_ms);
}

}  // namespace

Result<int> launch_holder(const HolderSpec& spec, const std::vector<HeldFd>& held) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail(ErrorKind::kSystem, "pipe2", "holder", "", errno);
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  int pid_pipe[2];
  if (::pipe2(pid_pipe, O_CLOEXEC) != 0) return fail(ErrorKind::kSystem, "pipe2", "holder", "", errno);
  UniqueFd pid_read(pid_pipe[0]), pid_write(pid_pipe[1]);
  pid_t child = ::fork();
  if (child < 0) return fail(ErrorKind::kSystem, "fork", "holder", "check the process limit", errno);
  if (child == 0) {
    ::setsid();
    pid_t grandchild = ::fork();
    if (grandchild != 0) {
      (void)!::write(pid_write.get(), &grandchild, sizeof grandchild);
      ::_exit(grandchild < 0 ? 1 : 0);
    }
    std::vector<HeldFd> copy = held;
    holder_main(spec, std::move(copy), ready_write.release());
  }
  int wstatus;
  ::waitpid(child, &wstatus, 0);
  ready_write.reset();
  pid_write.reset();
  pid_t holder_pid = -1;
  (void)!::read(pid_read.get(), &holder_pid, sizeof holder_pid);
  LU_TRY_VOID(wait_readable(ready_read.get(), 10000, "holder start"));
  char ok = 0;
  if (::read(ready_read.get(), &ok, 1) != 1 || ok != 1)
    return fail(ErrorKind::kSystem, "launch holder", spec.socket_path, "the holder failed to start; see " + spec.log_path);
  return holder_pid;
}

Result<HolderStatus> holder_status(const std::string& socket_path) {
  auto a = LU_TRY(ask(socket_path, "status", 5000));
  if (a.reply.strs.size() < 3 || a.reply.nums.size() < 3)
    return fail(ErrorKind::kInternal, "status", socket_path, "the holder sent a short reply");
  HolderStatus s;
  s.run_id = a.reply.strs[0];
  s.nonce = a.reply.strs[1];
  s.backend = a.reply.strs[2];
  s.held.assign(a.reply.strs.begin() + 3, a.reply.strs.end());
  s.pid = static_cast<int>(a.reply.nums[0]);
  s.iteration = static_cast<std::uint32_t>(a.reply.nums[1]);
  s.since_ns = static_cast<std::int64_t>(a.reply.nums[2]);
  return s;
}

Status holder_kexec(const std::string& socket_path) {
  auto a = ask(socket_path, "kexec", 120000);
  if (!a && a.error().kind == ErrorKind::kNotFound)
    return fail(ErrorKind::kSystem, "lu-test kexec", "holder",
                "the holder exited without answering: it was killed, or the machine went down under it; "
                "`lu-test status` and `lu-test stage post` tell which");
  if (!a) return fail(a.error());
  if (a->reply.err)
    return fail(ErrorKind::kKexecRefused, "lu-test kexec", "holder",
                "the kexec did not happen, the holder is still alive and holds every fd. The kernel said: " +
                    a->reply.detail,
                a->reply.err);
  return {};
}

Result<std::string> holder_flip_memfd_byte(const std::string& socket_path) {
  auto a = LU_TRY(ask(socket_path, "flip-memfd-byte", 5000));
  if (a.reply.err) return fail(ErrorKind::kNotFound, "flip-memfd-byte", "holder", a.reply.detail, a.reply.err);
  return a.reply.strs.empty() ? std::string() : a.reply.strs[0];
}

std::string holder_death_note(const std::string& death_note_path) {
  if (death_note_path.empty() || !path_exists(death_note_path)) return {};
  auto text = read_text_file(death_note_path, 4096);
  return text ? *text : std::string();
}

Status holder_cancel(const std::string& socket_path) {
  LU_TRY(ask(socket_path, "cancel", 5000));
  return {};
}

}  // namespace lu::stages
