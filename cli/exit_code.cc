#include "cli/exit_code.h"

namespace lu::cli {

std::span<const ExitCodeInfo> exit_code_table() {
  static constexpr ExitCodeInfo kTable[] = {
      {kExitPass, "PASS (expected failures under an explicitly weaker --profile count as passing)"},
      {kExitFail, "FAIL: a continuity check failed"},
      {kExitSkip, "SKIP: the kernel lacks the capability; nothing was tested"},
      {kExitUsage, "usage: bad option, BDF or name"},
      {kExitCorruptState, "the stored state is damaged, truncated or hostile"},
      {kExitNoState, "nothing is armed"},
      {kExitIncompatible, "the state was written by another schema version of lu-test"},
      {kExitNotFound, "a device, session or token that should exist does not"},
      {kExitUnavailable, "the kernel or the machine lacks a capability this command needs"},
      {kExitInternal, "internal error (a bug in lu-test)"},
      {kExitSystem, "a system call failed"},
      {kExitError, "ERROR: a check could not run (or the post stage was stopped)"},
      {kExitBusy, "busy: someone else holds it"},
      {kExitNotBound, "a device is not bound to vfio-pci"},
      {kExitKexecRefused, "the kernel refused the kexec (a preserved file failed to freeze)"},
      {kExitStageMismatch, "this boot does not follow `lu-test stage pre` (or still is its boot)"},
      {kExitAlreadyDone, "the post stage of this kexec already ran to its end"},
      {kExitTimeout, "a daemon or device did not answer in time"},
      {kExitRefused, "the kernel refused an operation (pinning limit, IOVA space)"},
  };
  return kTable;
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kSystem: return kExitSystem;
    case ErrorKind::kInvalidInput: return kExitUsage;
    case ErrorKind::kNotFound: return kExitNotFound;
    case ErrorKind::kUnavailable: return kExitUnavailable;
    case ErrorKind::kBusy: return kExitBusy;
    case ErrorKind::kCorruptState: return kExitCorruptState;
    case ErrorKind::kIncompatibleState: return kExitIncompatible;
    case ErrorKind::kNoState: return kExitNoState;
    case ErrorKind::kStageMismatch: return kExitStageMismatch;
    case ErrorKind::kRefused: return kExitRefused;
    case ErrorKind::kKexecRefused: return kExitKexecRefused;
    case ErrorKind::kNotBound: return kExitNotBound;
    case ErrorKind::kTimeout: return kExitTimeout;
    case ErrorKind::kAlreadyDone: return kExitAlreadyDone;
    case ErrorKind::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

int exit_code_for(stages::Outcome verdict) {
  switch (verdict) {
    case stages::Outcome::kPass:
    case stages::Outcome::kXfail: return kExitPass;
    case stages::Outcome::kFail: return kExitFail;
    case stages::Outcome::kError: return kExitError;
    case stages::Outcome::kSkip: return kExitSkip;
  }
  return kExitInternal;
}

}  // namespace lu::cli
