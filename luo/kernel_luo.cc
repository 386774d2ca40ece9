// The kernel backend of the LUO client: the only file that issues LUO ioctls.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "luo/diagnosis.h"
#include "luo/luo.h"
#include "luo/uapi.h"

namespace lu::luo {
namespace uapi {
const char* request_name(unsigned long request) {
  switch (request) {
    case kCreateSession: return "LIVEUPDATE_IOCTL_CREATE_SESSION";
    case kRetrieveSession: return "LIVEUPDATE_IOCTL_RETRIEVE_SESSION";
    case kSessionPreserveFd: return "LIVEUPDATE_SESSION_PRESERVE_FD";
    case kSessionRetrieveFd: return "LIVEUPDATE_SESSION_RETRIEVE_FD";
    case kSessionFinish: return "LIVEUPDATE_SESSION_FINISH";
    case kSessionGetName: return "LIVEUPDATE_SESSION_GET_NAME";
  }
  return "LIVEUPDATE_IOCTL_UNKNOWN";
}
}  // namespace uapi

namespace {

void copy_name(std::uint8_t (&dst)[uapi::kNameSize], const std::string& name) {
  std::memset(dst, 0, sizeof dst);
  std::memcpy(dst, name.data(), std::min(name.size(), uapi::kMaxNameLength));
}

// One builder per struct: size = sizeof, everything else zero unless given.
uapi::CreateSession make_create(const std::string& name) {
  uapi::CreateSession arg{.size = sizeof(uapi::CreateSession), .fd = -1, .name = {}};
  copy_name(arg.name, name);
  return arg;
}
uapi::RetrieveSession make_retrieve(const std::string& name) {
  uapi::RetrieveSession arg{.size = sizeof(uapi::RetrieveSession), .fd = -1, .name = {}};
  copy_name(arg.name, name);
  return arg;
}
uapi::SessionPreserveFd make_preserve(int fd, std::uint64_t token) {
  return {.size = sizeof(uapi::SessionPreserveFd), .fd = fd, .token = token};
}
uapi::SessionRetrieveFd make_retrieve_fd(std::uint64_t token) {
  return {.size = sizeof(uapi::SessionRetrieveFd), .fd = -1, .token = token};
}
uapi::SessionFinish make_finish() { return {.size = sizeof(uapi::SessionFinish), .reserved = 0}; }
uapi::SessionGetName make_get_name() {
  return {.size = sizeof(uapi::SessionGetName), .reserved = 0, .name = {}};
}

class KernelSession final : public Session {
 public:
  KernelSession(IoctlGateway& gateway, SessionFd fd, std::string name)
      : gateway_(gateway), fd_(std::move(fd)), name_(std::move(name)) {}

  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }

  Status preserve_fd(int fd, std::uint64_t token) override {
    auto arg = make_preserve(fd, token);
    return call(uapi::kSessionPreserveFd, &arg, Op::kPreserveFd, token);
  }

  Result<UniqueFd> retrieve_fd(std::uint64_t token) override {
    auto arg = make_retrieve_fd(token);
    LU_TRY_VOID(call(uapi::kSessionRetrieveFd, &arg, Op::kRetrieveFd, token));
    return UniqueFd(arg.fd);
  }

  Status finish() override {
    auto arg = make_finish();
    return call(uapi::kSessionFinish, &arg, Op::kFinish, std::nullopt);
  }

  Result<std::optional<std::string>> get_name() override {
    auto arg = make_get_name();
    auto st = call(uapi::kSessionGetName, &arg, Op::kGetName, std::nullopt);
    if (!st) {
      // 6.19 has no GET_NAME: an unknown nr is EINVAL there. Absence of the ioctl is an outcome.
      if (st.error().err == EINVAL || st.error().err == ENOTTY) return std::optional<std::string>{};
      return fail(st.error());
    }
    auto end = std::find(std::begin(arg.name), std::end(arg.name), 0);
    return std::optional<std::string>(std::string(std::begin(arg.name), end));
  }

  SessionFd release_fd() override { return std::move(fd_); }

 private:
  Status call(unsigned long request, void* arg, Op op, std::optional<std::uint64_t> token) {
    int err = 0;
    if (gateway_.call(fd_.get(), request, arg, &err) == 0) return {};
    std::string subject = "session " + name_;
    if (token) subject += " token " + std::to_string(*token);
    return fail(diagnose(op, err, uapi::request_name(request), subject));
  }

  IoctlGateway& gateway_;
  SessionFd fd_;
  std::string name_;
};

class KernelDevice final : public Device {
 public:
  KernelDevice(IoctlGateway& gateway, LuoDeviceFd fd) : gateway_(gateway), fd_(std::move(fd)) {}

  Result<std::unique_ptr<Session>> create_session(const std::string& name) override {
    LU_TRY_VOID(validate_session_name(name));
    auto arg = make_create(name);
    return open_session(uapi::kCreateSession, &arg, &arg.fd, Op::kCreateSession, name);
  }

  Result<std::unique_ptr<Session>> retrieve_session(const std::string& name) override {
    LU_TRY_VOID(validate_session_name(name));
    auto arg = make_retrieve(name);
    return open_session(uapi::kRetrieveSession, &arg, &arg.fd, Op::kRetrieveSession, name);
  }

 private:
  Result<std::unique_ptr<Session>> open_session(unsigned long request, void* arg, const std::int32_t* out_fd,
                                                Op op, const std::string& name) {
    int err = 0;
    if (gateway_.call(fd_.get(), request, arg, &err) != 0)
      return fail(diagnose(op, err, uapi::request_name(request), "session " + name));
    return std::unique_ptr<Session>(std::make_unique<KernelSession>(gateway_, SessionFd(*out_fd), name));
  }

  IoctlGateway& gateway_;
  LuoDeviceFd fd_;
};

class KernelOpener final : public Opener {
 public:
  KernelOpener(IoctlGateway& gateway, std::string path) : gateway_(gateway), path_(std::move(path)) {}

  Result<std::unique_ptr<Device>> open() override {
    LuoDeviceFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return fail(diagnose(Op::kOpen, errno, "open", path_));
    return std::unique_ptr<Device>(std::make_unique<KernelDevice>(gateway_, std::move(fd)));
  }

  std::unique_ptr<Session> adopt_session(SessionFd fd, std::string name) override {
    return std::make_unique<KernelSession>(gateway_, std::move(fd), std::move(name));
  }

 private:
  IoctlGateway& gateway_;
  std::string path_;
};

}  // namespace

Status validate_session_name(const std::string& name) {
  if (name.empty())
    return fail(ErrorKind::kInvalidInput, "validate session name", "\"\"", "a session name must not be empty");
  if (name.size() > uapi::kMaxNameLength)
    return fail(ErrorKind::kInvalidInput, "validate session name", name,
                "a session name holds at most 63 characters (u8[64] with a NUL)");
  if (name.find('\0') != std::string::npos)
    return fail(ErrorKind::kInvalidInput, "validate session name", name, "a session name cannot contain NUL");
  return {};
}

std::unique_ptr<Opener> make_kernel_opener(IoctlGateway& gateway, std::string device_path) {
  return std::make_unique<KernelOpener>(gateway, std::move(device_path));
}

}  // namespace lu::luo
