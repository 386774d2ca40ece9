// Process exit codes. Verdicts follow kselftest, whose runner reads them (kselftest.h: 0 pass,
// 1 fail, 4 skip; 2 and 3 mean XFAIL and XPASS to it, so lu-test never uses them, and a run
// with expected failures only is a pass). lu-test's own conditions use 64 and up, one meaning
// each; 77 is left alone because automake, meson and ctest scripts read it as "skipped".
#pragma once

#include <span>

#include "base/error.h"
#include "stages/outcome.h"

namespace lu::cli {

enum ExitCode : int {
  kExitPass = 0,
  kExitFail = 1,
  kExitSkip = 4,             // the capability is missing: nothing was tested
  kExitUsage = 64,           // bad command line, bad BDF, bad name
  kExitCorruptState = 65,    // state file or memfd damaged, truncated or hostile
  kExitNoState = 66,         // nothing armed
  kExitIncompatible = 67,    // state written by another schema version
  kExitNotFound = 68,        // a device, session or token that should exist does not
  kExitUnavailable = 69,     // the kernel lacks the capability (no LUO, no kexec-tools)
  kExitInternal = 70,        // a bug in lu-test
  kExitSystem = 71,          // a syscall failed otherwise
  kExitError = 72,           // verdict ERROR: a check could not run
  kExitBusy = 73,
  kExitNotBound = 74,        // a device is not bound to vfio-pci
  kExitKexecRefused = 75,    // the kernel refused the kexec (a freeze failed); nothing happened
  kExitStageMismatch = 76,   // this boot does not follow the pre stage (or still is its boot)
  kExitAlreadyDone = 78,     // the post stage of this kexec already ran to its end
  kExitTimeout = 79,         // a daemon or device did not answer in time
  kExitRefused = 80,         // the kernel refused another operation (pinning limit, IOVA space)
};

struct ExitCodeInfo {
  int code;
  const char* meaning;
};
// The table above, for --help, `lu-test list --exit-codes` and the docs.
std::span<const ExitCodeInfo> exit_code_table();

int exit_code_for(ErrorKind kind);
int exit_code_for(stages::Outcome verdict);

}  // namespace lu::cli
