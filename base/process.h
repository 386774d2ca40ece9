// Running helper programs (kexec-tools) from an argv vector, never a shell string.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace lu {

struct ProcessResult {
  int exit_code = -1;   // -1 when killed by a signal
  std::string output;   // stdout and stderr, interleaved
};

Result<ProcessResult> run_process(const std::vector<std::string>& argv);
std::string join_argv(const std::vector<std::string>& argv);  // for logs, shell-quoted

}  // namespace lu
