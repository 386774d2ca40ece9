// Process exit codes: verdicts below 64, bad input and environment problems from 64 up
// (sysexits-style), each kind distinct so scripts and CI can tell them apart.
#pragma once

#include "base/error.h"
#include "stages/outcome.h"

namespace lu::cli {

enum ExitCode : int {
  kExitPass = 0,
  kExitFail = 1,
  kExitError = 2,          // a check could not run
  kExitSkip = 3,           // every check skipped: the capability is missing
  kExitUsage = 64,         // bad command line, bad BDF, bad name
  kExitCorruptState = 65,  // state file or memfd damaged, truncated or hostile
  kExitNoState = 66,       // nothing armed
  kExitIncompatible = 67,  // state written by another schema version
  kExitNotFound = 68,      // a device, session or token that should exist does not
  kExitUnavailable = 69,   // the kernel lacks the capability (no LUO, no kexec-tools)
  kExitInternal = 70,
  kExitSystem = 71,        // a syscall failed otherwise
  kExitBusy = 73,
  kExitRefused = 75,       // the kernel refused (a freeze failed, the kexec did not happen)
  kExitStageMismatch = 76,
};

int exit_code_for(ErrorKind kind);
int exit_code_for(stages::Outcome verdict);

}  // namespace lu::cli
