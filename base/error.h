// One error type for every kernel and file operation in lu-test.
#pragma once

#include <string>

namespace lu {

// What kind of failure this is; decides the process exit code (see cli/exit_code.h)
// and lets callers treat an expected absence as an outcome rather than an error.
enum class ErrorKind {
  kSystem,         // a syscall failed for a reason not listed below
  kInvalidInput,   // the user gave something malformed (BDF, option, name)
  kNotFound,       // a thing that should exist does not (device, session, token)
  kUnavailable,    // the kernel lacks the capability (no LUO, no VFIO cdev)
  kBusy,           // someone else holds it (exclusive open, preserved device)
  kCorruptState,   // a state file or blob failed validation
  kIncompatibleState,  // state written by a different schema version
  kNoState,        // there is no armed state where one was required
  kStageMismatch,  // the stage asked for disagrees with what the kernel holds
  kRefused,        // the kernel refused an operation (pinning limit, IOVA space exhausted)
  kKexecRefused,   // reboot(KEXEC) returned: a preserved file refused to freeze
  kNotBound,       // a device is not bound to vfio-pci
  kTimeout,        // a daemon or a device did not answer in time
  kAlreadyDone,    // the step already ran to its end (a second post stage after one kexec)
  kInternal,       // a bug in lu-test
};

struct Error {
  ErrorKind kind = ErrorKind::kSystem;
  std::string op;       // the operation, e.g. "LIVEUPDATE_IOCTL_CREATE_SESSION"
  int err = 0;          // errno captured right after the call, 0 if none
  std::string subject;  // what it was done to: path, session name, BDF, token
  std::string hint;     // one sentence: what to check

  // "op(subject): strerror (errno N). hint"
  std::string message() const;
};

Error make_error(ErrorKind kind, std::string op, std::string subject, std::string hint,
                 int err = 0);

const char* error_kind_name(ErrorKind kind);

}  // namespace lu
