#include "luo/diagnosis.h"

#include <cerrno>

namespace lu::luo {
namespace {

struct Row {
  Op op;
  int err;
  ErrorKind kind;
  const char* hint;
};

constexpr Row kTable[] = {
    {Op::kOpen, ENOENT, ErrorKind::kUnavailable,
     "LUO is not enabled: boot a kernel with CONFIG_LIVEUPDATE and KHO, with liveupdate=on on its command line"},
    {Op::kOpen, EBUSY, ErrorKind::kBusy,
     "another process has /dev/liveupdate open (it is exclusive); find it with `fuser /dev/liveupdate`"},
    {Op::kOpen, EIO, ErrorKind::kCorruptState,
     "the incoming live-update data failed to deserialize after the kexec; this is sticky until the next boot, see dmesg"},
    {Op::kOpen, EACCES, ErrorKind::kSystem, "run lu-test as root"},
    {Op::kCreateSession, EEXIST, ErrorKind::kBusy,
     "a session with this name already exists (outgoing or incoming); cancel the previous run with `lu-test cancel`"},
    {Op::kCreateSession, EINVAL, ErrorKind::kInvalidInput,
     "the kernel rejected the session name: it must be 1..63 characters with no NUL"},
    {Op::kRetrieveSession, ENOENT, ErrorKind::kNotFound,
     "no incoming session has this name: nothing was preserved under it before the kexec"},
    {Op::kRetrieveSession, EINVAL, ErrorKind::kBusy,
     "this incoming session was already retrieved in this boot"},
    {Op::kPreserveFd, EEXIST, ErrorKind::kBusy, "this token is already used in this session (tokens are per session)"},
    {Op::kPreserveFd, ENOENT, ErrorKind::kUnavailable,
     "no LUO file handler accepts this file: only memfds (and, with the VFIO series, cdev device fds) can be preserved"},
    {Op::kPreserveFd, EBUSY, ErrorKind::kBusy, "the same file is already preserved in some session"},
    {Op::kPreserveFd, EBADF, ErrorKind::kInvalidInput, "the fd is not open"},
    {Op::kPreserveFd, ENOSPC, ErrorKind::kRefused,
     "the kernel's per-session file limit was reached (6.19 limits; removed in 7.2)"},
    {Op::kPreserveFd, ENOMEM, ErrorKind::kRefused,
     "the kernel ran out of live-update memory (6.19 limits, or KHO scratch too small: raise kho_scratch=)"},
    {Op::kRetrieveFd, ENOENT, ErrorKind::kNotFound,
     "no file was preserved under this token, or an earlier retrieve of it failed (that failure is sticky)"},
    {Op::kFinish, EBUSY, ErrorKind::kBusy,
     "a file in this session is not ready to finish: retrieve every device fd (and bind it) before FINISH"},
    {Op::kFinish, EINVAL, ErrorKind::kRefused, "FINISH is only valid on a retrieved incoming session"},
    {Op::kGetName, EINVAL, ErrorKind::kUnavailable, "this kernel has no SESSION_GET_NAME (added in 7.2)"},
};

const char* fallback_hint(Op op) {
  switch (op) {
    case Op::kOpen: return "check that /dev/liveupdate exists and that you are root";
    case Op::kCreateSession:
    case Op::kRetrieveSession: return "check dmesg for liveupdate messages";
    case Op::kPreserveFd: return "check that the file type is preservable and the session is outgoing";
    case Op::kRetrieveFd: return "check that the session is an incoming one and the token was preserved";
    case Op::kFinish: return "check dmesg for the file handler that refused";
    case Op::kGetName: return "check the kernel version";
  }
  return "";
}

}  // namespace

Error diagnose(Op op, int err, std::string op_name, std::string subject) {
  for (const Row& row : kTable)
    if (row.op == op && row.err == err) return make_error(row.kind, std::move(op_name), std::move(subject), row.hint, err);
  return make_error(ErrorKind::kSystem, std::move(op_name), std::move(subject), fallback_hint(op), err);
}

}  // namespace lu::luo
