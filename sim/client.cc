#include "sim/client.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/files.h"
#include "base/rpc.h"
#include "base/seqpacket.h"
#include "luo/diagnosis.h"
#include "luo/uapi.h"
#include "sim/vfio_client.h"
#include "vfio/bdf.h"

namespace lu::sim {
namespace {

using rpc::Request;

// A session is a socket to the simulator; its requests travel on the session fd itself, the
// way ioctls are issued on a real session fd, and closing every copy of it is what unpreserves.
class SimSession final : public luo::Session {
 public:
  SimSession(SessionFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }

  Status preserve_fd(int fd, std::uint64_t token) override {
    auto a = LU_TRY(op(luo::Op::kPreserveFd, luo::uapi::kSessionPreserveFd, {"preserve_fd", {}, {token}, {}}, {fd},
                       token));
    return {};
  }
  Result<UniqueFd> retrieve_fd(std::uint64_t token) override {
    auto a = LU_TRY(op(luo::Op::kRetrieveFd, luo::uapi::kSessionRetrieveFd, {"retrieve_fd", {}, {token}, {}}, {}, token));
    if (a.fds.empty()) return fail(ErrorKind::kInternal, "retrieve_fd", name_, "the simulator sent no fd");
    return std::move(a.fds[0]);
  }
  Status finish() override {
    LU_TRY_VOID(op(luo::Op::kFinish, luo::uapi::kSessionFinish, {"finish", {}, {}, {}}, {}, std::nullopt));
    return {};
  }
  Result<std::optional<std::string>> get_name() override {
    auto a = LU_TRY(op(luo::Op::kGetName, luo::uapi::kSessionGetName, {"get_name", {}, {}, {}}, {}, std::nullopt));
    if (a.reply.strs.empty()) return std::optional<std::string>{};
    return std::optional<std::string>(a.reply.strs[0]);
  }
  SessionFd release_fd() override { return std::move(fd_); }

 private:
  Result<rpc::Answer> op(luo::Op kind, unsigned long request, Request r, const std::vector<int>& fds,
                         std::optional<std::uint64_t> token) {
    std::string subject = "session " + name_ + (token ? " token " + std::to_string(*token) : "");
    auto a = rpc::call(fd_.get(), std::move(r), fds);
    if (!a) return fail(a.error());
    if (a->reply.err) return fail(luo::diagnose(kind, a->reply.err, luo::uapi::request_name(request), subject));
    return a;
  }

  SessionFd fd_;
  std::string name_;
};

class SimDevice final : public luo::Device {
 public:
  explicit SimDevice(SocketFd conn) : conn_(std::move(conn)) {}
  Result<std::unique_ptr<luo::Session>> create_session(const std::string& name) override {
    return open(name, "create_session", luo::Op::kCreateSession, luo::uapi::kCreateSession);
  }
  Result<std::unique_ptr<luo::Session>> retrieve_session(const std::string& name) override {
    return open(name, "retrieve_session", luo::Op::kRetrieveSession, luo::uapi::kRetrieveSession);
  }

 private:
  Result<std::unique_ptr<luo::Session>> open(const std::string& name, const char* op, luo::Op kind,
                                             unsigned long request) {
    LU_TRY_VOID(luo::validate_session_name(name));
    auto a = LU_TRY(rpc::call(conn_.get(), {op, {name}, {}, {}}));
    if (a.reply.err) return fail(luo::diagnose(kind, a.reply.err, luo::uapi::request_name(request), "session " + name));
    if (a.fds.empty()) return fail(ErrorKind::kInternal, op, name, "the simulator sent no fd");
    return std::unique_ptr<luo::Session>(std::make_unique<SimSession>(std::move(a.fds[0]).into<SessionTag>(), name));
  }
  SocketFd conn_;
};

class SimOpener final : public luo::Opener {
 public:
  explicit SimOpener(std::string path) : path_(std::move(path)) {}
  Result<std::unique_ptr<luo::Device>> open() override {
    auto conn = LU_TRY(connect_seqpacket(path_));
    auto a = LU_TRY(rpc::call(conn.get(), {"luo_open", {}, {}, {}}));
    if (a.reply.err) return fail(luo::diagnose(luo::Op::kOpen, a.reply.err, "open", "/dev/liveupdate (simulated)"));
    return std::unique_ptr<luo::Device>(std::make_unique<SimDevice>(std::move(conn)));
  }
  std::unique_ptr<luo::Session> adopt_session(SessionFd fd, std::string name) override {
    return std::make_unique<SimSession>(std::move(fd), std::move(name));
  }

 private:
  std::string path_;
};

class SimKexec final : public Kexec {
 public:
  explicit SimKexec(int& conn) : conn_(conn) {}
  Status load(const KexecImage& image) override {
    return simple({"kexec_load", {image.kernel, image.initrd, image.cmdline}, {}, {}});
  }
  Status unload() override { return simple({"kexec_unload", {}, {}, {}}); }
  Result<bool> loaded() override {
    auto a = LU_TRY(rpc::call(conn_, {"kexec_loaded", {}, {}, {}}));
    return !a.reply.nums.empty() && a.reply.nums[0] == 1;
  }
  Status execute() override {
    auto a = rpc::call(conn_, {"kexec", {}, {}, {}});
    // The simulator drops every connection at the kexec, ours included: that is success.
    if (!a) return a.error().kind == ErrorKind::kNotFound ? Status{} : fail(a.error());
    if (a->reply.err == EINVAL)
      return fail(ErrorKind::kNoState, "reboot(LINUX_REBOOT_CMD_KEXEC)", "simulated machine",
                  "no kernel is loaded: run `lu-test stage pre` (it arms the kexec)", EINVAL);
    return fail(ErrorKind::kKexecRefused, "reboot(LINUX_REBOOT_CMD_KEXEC)", "simulated machine",
                "the kernel refused the kexec: a preserved file failed to freeze; the sessions are still held, "
                "retry `lu-test kexec` or release them with `lu-test cancel`",
                a->reply.err);
  }

 private:
  Status simple(Request r) {
    auto a = LU_TRY(rpc::call(conn_, std::move(r)));
    if (a.reply.err) return fail(ErrorKind::kSystem, r.op, "simulated machine", a.reply.detail, a.reply.err);
    return {};
  }
  int& conn_;
};

class SimMachine final : public Machine {
 public:
  SimMachine(SocketFd conn, std::string path)
      : conn_(std::move(conn)), raw_(conn_.get()), path_(path), opener_(path), kexec_(raw_) {}
  Backend backend() const override { return Backend::kSim; }
  Result<std::unique_ptr<Machine>> reconnect() const override {
    auto conn = connect_seqpacket(path_);
    if (!conn)
      return fail(ErrorKind::kUnavailable, "connect", path_,
                  "the simulated machine is gone (it was stopped, or it crashed; see sim.log next to it)");
    return std::unique_ptr<Machine>(std::make_unique<SimMachine>(std::move(*conn), path_));
  }
  KexecImage default_image(const BootFacts&) const override { return {}; }  // the simulator boots itself
  std::string release_of(const std::string& image) const override {
    return image.rfind("sim:", 0) == 0 ? image.substr(4) : std::string();
  }
  int liveness_fd() const override { return raw_; }
  // The simulated kernel says what it is; its profile is exactly what it preserves.
  Result<Capabilities> capabilities() override {
    auto a = LU_TRY(rpc::call(raw_, {"boot_facts", {}, {}, {}}));
    if (a.reply.strs.size() < 4) return fail(ErrorKind::kInternal, "boot_facts", "simulator", "short reply");
    auto profile = parse_kernel_profile(a.reply.strs[3]);
    if (!profile) return fail(ErrorKind::kInternal, "boot_facts", "simulator", "unknown kernel profile " + a.reply.strs[3]);
    Capabilities c;
    c.source = std::string("simulated kernel profile ") + kernel_profile_name(*profile);
    c.vfio_cdev = c.iommufd = true;  // every simulated device opens as a cdev bound to an IOMMU context
    if (*profile == KernelProfile::kNone) {
      auto dev = opener_.open();  // the same sentence a real kernel without LUO gets
      c.luo_problem = dev ? "" : dev.error().message() + " (simulated kernel profile none)";
      return c;
    }
    c.memfd = true;
    c.device_fd = *profile == KernelProfile::kVfioBase || *profile == KernelProfile::kVfioFull;
    c.device_state = c.dma = *profile == KernelProfile::kVfioFull;
    return c;
  }
  luo::Opener& luo() override { return opener_; }
  Kexec& kexec() override { return kexec_; }
  Result<BootFacts> boot_facts() override {
    auto a = LU_TRY(rpc::call(raw_, {"boot_facts", {}, {}, {}}));
    if (a.reply.strs.size() < 3) return fail(ErrorKind::kInternal, "boot_facts", "simulator", "short reply");
    return BootFacts{a.reply.strs[0], a.reply.strs[1], a.reply.strs[2]};
  }
  Status announce_holder() override {
    auto a = LU_TRY(rpc::call(raw_, {"register_holder", {}, {}, {}}));
    return {};
  }
  Result<std::unique_ptr<vfio::Device>> open_vfio_device(const std::string& text) override {
    auto bdf = LU_TRY(vfio::Bdf::parse(text));
    auto a = LU_TRY(rpc::call(raw_, {"vfio_open", {bdf.str()}, {}, {}}));
    if (a.reply.err == EBUSY)
      return fail(ErrorKind::kBusy, "open VFIO device", bdf.str(),
                  "LUO holds this device after the kexec: retrieve it through its session first", EBUSY);
    if (a.reply.err == ENODEV || a.reply.err == ENOENT)
      return fail(ErrorKind::kNotFound, "open VFIO device", bdf.str(),
                  "no such PCI device on the simulated machine (" + a.reply.detail + ")", a.reply.err);
    if (a.reply.err)
      return fail(device_error_kind(a.reply.err), "open VFIO device", bdf.str(), a.reply.detail, a.reply.err);
    if (a.fds.empty()) return fail(ErrorKind::kInternal, "open VFIO device", bdf.str(), "the simulator sent no fd");
    return make_sim_vfio_device(std::move(a.fds[0]).into<VfioDeviceTag>(), bdf.str());
  }
  Result<std::unique_ptr<vfio::Device>> adopt_vfio_device(VfioDeviceFd fd, const std::string& text) override {
    auto bdf = LU_TRY(vfio::Bdf::parse(text));
    return make_sim_vfio_device(std::move(fd), bdf.str());
  }

 private:
  SocketFd conn_;
  int raw_;
  std::string path_;
  SimOpener opener_;
  SimKexec kexec_;
};

Result<rpc::Answer> control(const std::string& run_dir, Request r) {
  auto conn = connect_seqpacket(socket_path(run_dir));
  if (!conn)
    return fail(ErrorKind::kNotFound, r.op, socket_path(run_dir),
                "no simulated machine runs there: start one with `lu-test sim start`");
  return rpc::call(conn->get(), std::move(r));
}

}  // namespace

std::string socket_path(const std::string& run_dir) { return run_dir + "/sim.sock"; }

Status start(const SimOptions& options) {
  if (connect_seqpacket(socket_path(options.run_dir)))
    return fail(ErrorKind::kBusy, "sim start", options.run_dir, "a simulated machine already runs there; `lu-test sim stop` first");
  LU_TRY_VOID(make_directories(options.run_dir));
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail(ErrorKind::kSystem, "pipe2", "sim start", "", errno);
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  std::vector<std::string> argv{options.binary, "sim", "serve", "--run-dir", options.run_dir, "--sim-kernel-profile",
                                kernel_profile_name(options.profile), "--idle-exit",
                                std::to_string(options.idle_exit_seconds), "--ready-fd", "3"};
  for (Fault f : options.faults) argv.insert(argv.end(), {"--fault", fault_info(f).name});
  pid_t child = ::fork();
  if (child < 0) return fail(ErrorKind::kSystem, "fork", "sim start", "", errno);
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the grandchild is reparented: no zombie, no controlling tty
    int log = ::open((options.run_dir + "/sim.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(ready_write.get(), 3);  // dup2 clears O_CLOEXEC on the copy
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(options.binary.c_str(), args.data());
    ::_exit(127);
  }
  int status;
  ::waitpid(child, &status, 0);
  ready_write.reset();
  LU_TRY_VOID(wait_readable(ready_read.get(), 10000, "simulated machine start"));
  char ok = 0;
  if (::read(ready_read.get(), &ok, 1) != 1 || ok != 1)
    return fail(ErrorKind::kSystem, "sim start", options.run_dir, "the simulator died at start; see " + options.run_dir + "/sim.log");
  return {};
}

Result<std::unique_ptr<Machine>> connect(const SimOptions& options) {
  auto path = socket_path(options.run_dir);
  auto conn = connect_seqpacket(path);
  if (!conn && options.autostart) {
    LU_TRY_VOID(start(options));
    conn = connect_seqpacket(path);
  }
  if (!conn)
    return fail(ErrorKind::kUnavailable, "connect", path,
                "no simulated machine runs there: start one with `lu-test sim start` (or omit --no-autostart)");
  return std::unique_ptr<Machine>(std::make_unique<SimMachine>(std::move(*conn), path));
}

Status stop(const std::string& run_dir) {
  auto a = control(run_dir, {"shutdown", {}, {}, {}});
  if (!a && a.error().kind != ErrorKind::kNotFound) return fail(a.error());
  return {};  // stopped now, or nothing was running
}

Status add_fault(const std::string& run_dir, Fault fault) {
  auto a = LU_TRY(control(run_dir, {"add_fault", {fault_info(fault).name}, {}, {}}));
  if (a.reply.err) return fail(ErrorKind::kInvalidInput, "add_fault", fault_info(fault).name, a.reply.detail, a.reply.err);
  return {};
}

Status kexec_now(const std::string& run_dir) {
  SimOptions options;
  options.run_dir = run_dir;
  options.autostart = false;
  auto machine = LU_TRY(connect(options));
  return machine->kexec().execute();
}

}  // namespace lu::sim
