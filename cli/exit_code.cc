#include "cli/exit_code.h"

namespace lu::cli {

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
