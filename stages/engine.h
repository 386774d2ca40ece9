// The stage engine: `stage pre` arms a run and hands its fds to the holder; `stage post`
// checks what survived the kexec and writes the verdict.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "machine/machine.h"
#include "stages/holder.h"
#include "stages/scenario.h"

namespace lu::stages {

// Where a run keeps its files. state_dir must be persistent storage (never tmpfs on a real
// machine: the post stage reads it after the kexec); run_dir holds sockets and logs.
struct Paths {
  std::string run_dir;
  std::string state_dir;
  std::string state_file() const { return state_dir + "/state.bin"; }
  std::string last_state_file() const { return state_dir + "/state.last.bin"; }
  std::string ktap_file() const { return state_dir + "/lu-test.ktap"; }
  std::string holder_socket() const { return run_dir + "/holder.sock"; }
  std::string holder_log() const { return run_dir + "/holder.log"; }
};

struct PreRequest {
  StageOptions options;
  std::string kernel;         // empty: the machine's own (sim) or /boot/vmlinuz-$(uname -r)
  std::string initrd;
  std::string append;         // empty: reuse the current command line
};

struct PreResult {
  state::RunState state;
  int holder_pid = 0;
  std::vector<std::string> notes;
};

Result<PreResult> stage_pre(Machine& machine, const Paths& paths, const PreRequest& request);

struct PostRequest {
  std::string expect_nonce;  // override the stored nonce (to prove the nonce check can fail)
};

struct Verdict {
  std::vector<std::pair<std::uint32_t, CheckResult>> results;
  std::string ktap_path;
  int passed = 0, failed = 0, errors = 0, skipped = 0, xfailed = 0;
  Outcome overall() const;
};

Result<Verdict> stage_post(Machine& machine, const Paths& paths, const PostRequest& request);

// The planned check names for a set of options (engine checks around the scenarios').
std::vector<std::string> planned_checks(const StageOptions& options);

}  // namespace lu::stages
