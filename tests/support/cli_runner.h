// Runs the real lu-test binary in a private run directory, as a user would.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/process.h"

namespace lu::testing {

struct CliResult {
  int code = -1;
  std::string output;
  bool has_line(const std::string& prefix) const {
    std::size_t pos = 0;
    while (pos < output.size()) {
      std::size_t end = output.find('\n', pos);
      std::string line = output.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      if (line.rfind(prefix, 0) == 0) return true;
      if (end == std::string::npos) break;
      pos = end + 1;
    }
    return false;
  }
};

// "ok N name" / "not ok N name" regardless of N.
inline bool reports(const CliResult& r, const std::string& status, const std::string& check) {
  for (int n = 1; n < 64; ++n)
    if (r.has_line(status + " " + std::to_string(n) + " " + check)) return true;
  return false;
}

class SimMachineDir {
 public:
  SimMachineDir() {
    char tmpl[] = "/tmp/lu-test-t-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~SimMachineDir() {
    run({"sim", "stop", "--run-dir", dir_});
    std::filesystem::remove_all(dir_);
  }
  const std::string& dir() const { return dir_; }

  static CliResult run(std::vector<std::string> args) {
    args.insert(args.begin(), LU_TEST_BINARY);
    auto r = run_process(args);
    if (!r) return {-1, r.error().message()};
    return {r->exit_code, r->output};
  }
  // Runs a command against this directory's simulated machine.
  CliResult sim(std::vector<std::string> args) const {
    args.insert(args.end(), {"--backend", "sim", "--run-dir", dir_});
    return run(args);
  }

 private:
  std::string dir_;
};

}  // namespace lu::testing
