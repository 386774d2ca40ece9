// The stage engine: `stage pre` arms a run and hands its fds to the holder; `stage post`
// checks what survived the kexec and writes the verdict. Every iteration leaves one record
// (KTAP) under STATE_DIR/records/, whatever happens to it: a verdict, CANCELLED, MISS or SKIP.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "machine/machine.h"
#include "stages/holder.h"
#include "stages/paths.h"
#include "stages/record_file.h"
#include "stages/scenario.h"

namespace lu::stages {

struct PreRequest {
  StageOptions options;
  std::string kernel;  // empty: the machine's own (sim) or /boot/vmlinuz-$(uname -r)
  std::string initrd;
  std::string append;  // empty: reuse the current command line
  // Set by `lu-test loop`: the iteration belongs to this loop.
  std::string loop_id;
  std::uint32_t loop_index = 0;
};

struct PreResult {
  state::RunState state;
  std::string record;               // the iteration's KTAP record
  int holder_pid = 0;               // 0 when nothing was armed (skipped)
  bool skipped = false;             // `--profile auto` on a kernel without LUO: SKIP, nothing armed
  std::vector<std::string> notes;   // said on stderr and in the record
  std::vector<std::string> warnings;
};

Result<PreResult> stage_pre(Machine& machine, const Paths& paths, const PreRequest& request);

struct PostRequest {
  std::string expect_nonce;  // override the stored nonce (to prove the nonce check can fail)
  // Called after a stop signal closed the record with ERROR lines; must not return (the
  // caller's exit code). Default: exit 128 + signal.
  std::function<void()> after_stop;
};

// What one iteration took, as the post stage measured it (-1: not measured).
struct Timing {
  std::int64_t pre_ms = -1, blackout_ms = -1, post_ms = -1;
  std::uint64_t dma_gap_copies = 0;  // DMA copies made during the blackout, all devices
};

struct Verdict {
  state::RunState state;
  BootFacts after;  // the boot this post stage ran on
  std::string record;
  Counts counts;
  RunOutcome outcome = RunOutcome::kError;
  Timing timing;
};

Result<Verdict> stage_post(Machine& machine, const Paths& paths, const PostRequest& request);

// The planned check names for a set of options (engine checks around the scenarios').
std::vector<std::string> planned_checks(const StageOptions& options);

// Closes the armed iteration's record without a post stage and retires its state file to
// `retired_as` (state.cancelled.bin, state.miss.<nonce>.bin): a cancel (CANCELLED, checks SKIP),
// a refused kexec given up (ERROR), an iteration whose post stage never ran (MISS).
Status close_armed_iteration(const Paths& paths, const state::RunState& st, RunOutcome verdict, Outcome checks,
                             const std::string& reason, const std::string& retired_as);

}  // namespace lu::stages
