// Runs the real lu-test binary in a private run directory, as a user would.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// Every lu-test the tests run sees a private default simulated-machine directory (a cycle keeps
// its record next to the default machine's): under /tmp, removed when the test process ends,
// never the user's $XDG_RUNTIME_DIR.
class PrivateSimHome {
 public:
  static const std::string& dir() {
    static PrivateSimHome home;
    return home.dir_;
  }
  ~PrivateSimHome() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  PrivateSimHome() {
    char tmpl[] = "/tmp/lu-test-home-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ::setenv("LU_TEST_SIM_DIR", dir_.c_str(), 1);
    // Every process this test starts (and everything those fork) inherits the mark.
    ::setenv("LU_TEST_MARK", dir_.c_str(), 1);
  }
  std::string dir_;
};

// Processes other than this one that carry this test process's mark.
inline std::vector<int> marked_processes() {
  (void)PrivateSimHome::dir();
  const std::string mark = std::string("LU_TEST_MARK=") + ::getenv("LU_TEST_MARK");
  std::vector<int> out;
  for (auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos || std::stoi(name) == ::getpid()) continue;
    std::ifstream in(e.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t at = env.find(mark); at != std::string::npos; at = env.find(mark, at + 1))
      if ((at == 0 || env[at - 1] == '\0') && (at + mark.size() == env.size() || env[at + mark.size()] == '\0')) {
        out.push_back(std::stoi(name));
        break;
      }
  }
  return out;
}

// True once no marked process is left (holders and guardians exit asynchronously).
inline bool no_process_left_within(int ms) {
  for (int waited = 0;; waited += 50) {
    auto left = marked_processes();
    if (left.empty()) return true;
    if (waited >= ms) {
      for (int pid : left) {
        std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
        std::string c((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
        for (auto& ch : c)
          if (ch == '\0') ch = ' ';
        std::fprintf(stderr, "left behind: pid %d: %s\n", pid, c.c_str());
      }
      return false;
    }
    ::usleep(50000);
  }
}

class SimMachineDir {
 public:
  SimMachineDir() {
    char tmpl[] = "/tmp/lu-test-t-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  // Cancel first, so no holder outlives the test; the directory may still be changing while the
  // holder and its guardian exit, hence the non-throwing remove.
  ~SimMachineDir() {
    run({"cancel", "--backend", "sim", "--run-dir", dir_});
    run({"sim", "stop", "--run-dir", dir_});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& dir() const { return dir_; }

  static CliResult run(std::vector<std::string> args) {
    args.insert(args.begin(), LU_TEST_BINARY);
    return exec(std::move(args));
  }
  // Any program (argv[0] a path), with the same private environment.
  static CliResult exec(std::vector<std::string> args) {
    (void)PrivateSimHome::dir();
    auto r = run_process(args);
    if (!r) return {-1, r.error().message()};
    return {r->exit_code, r->output};
  }
  // Runs a command whose default simulated-machine directory is this one (a cycle keeps its record
  // next to the default machine's: under the test's own directory, never the user's).
  CliResult run_here(std::vector<std::string> args) const {
    ::setenv("LU_TEST_SIM_DIR", dir_.c_str(), 1);
    auto r = run(std::move(args));
    ::setenv("LU_TEST_SIM_DIR", PrivateSimHome::dir().c_str(), 1);
    return r;
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
