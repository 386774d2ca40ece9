// Steps 4 to 6 of the post stage, for one armed iteration: the engine's checks around the
// scenarios', FINISH in order, the leftover probe, the verdict. Every result goes to the record
// (fsync'ed) the moment it is known; FINISH runs only once everything it consumes is on disk.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "machine/machine.h"
#include "stages/armed_state.h"
#include "stages/engine.h"
#include "stages/record_file.h"
#include "stages/scenario.h"

namespace lu::stages {

class PostRun {
 public:
  PostRun(Machine& machine, luo::Device* luo, const Paths& paths, const BootFacts& facts, ArmedState& armed,
          RecordFile& record, std::int64_t started_ns, std::string expect_nonce);
  // The verdict the record was closed with.
  Result<RunOutcome> execute();
  const Timing& timing() const { return timing_; }

 private:
  void write(const CheckResult& r);
  void check_nonce();
  void check_state_retrieved();
  void check_sessions_retrieved();
  void run_scenarios();
  Status finish_sessions();
  void check_leftovers();
  Status write_timing();
  Result<RunOutcome> close_interrupted();
  std::size_t sessions_to_finish() const;

  Machine& machine_;
  luo::Device* luo_;
  const Paths& paths_;
  const BootFacts& facts_;
  ArmedState& armed_;
  const state::RunState& st_;
  RecordFile& record_;
  std::int64_t started_ns_;
  std::string expect_nonce_;
  PostContext ctx_;
  std::optional<Error> write_error_;  // the first result that did not reach the disk
  Timing timing_;
};

}  // namespace lu::stages
