// `stage post`: the boot after the kexec (DESIGN.md "One cycle", step 4).
#include <signal.h>

#include <cerrno>
#include <cstdio>

#include "base/clock.h"
#include "base/files.h"
#include "stages/armed_state.h"
#include "stages/engine.h"
#include "stages/post_journal.h"
#include "stages/post_run.h"
#include "stages/record_file.h"
#include "stages/stop_signals.h"
#include "state/store.h"

namespace lu::stages {
namespace {

// The record is closed by the signal watcher; after that the process must end at once.
void on_stop_signal(RecordFile& record, PostJournal& journal, const BootFacts& facts, const PostRequest& request,
                    int signal) {
  const char* name = signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "SIGHUP";
  (void)record.close_remaining(Outcome::kError, std::string("not finished: the post stage was stopped by ") + name +
                                                    " (systemd's TimeoutStartSec=, or a user) before this check reported");
  (void)record.close(RunOutcome::kError);
  (void)journal.done("ERROR", facts.boot_id);
  if (request.after_stop) request.after_stop();
  std::_Exit(128 + signal);
}

// The iteration is over: its state becomes the previous one (the next pre stage reads its names).
Status retire_state(const Paths& paths) {
  if (::rename(paths.state_file().c_str(), paths.last_state_file().c_str()) != 0 && errno != ENOENT)
    return fail(ErrorKind::kSystem, "rename", paths.state_file(), "could not retire the finished state", errno);
  return {};
}

}  // namespace

Result<Verdict> stage_post(Machine& machine, const Paths& paths, const PostRequest& request) {
  const std::int64_t started = realtime_ns();
  // 1. This boot, and LUO if the kernel has it.
  auto facts = LU_TRY(machine.boot_facts());
  auto luo = LU_TRY(open_luo_if_present(machine));
  // 2. The armed iteration this boot follows: refuses the arming boot itself and a second post
  //    stage after one kexec; journals the attempt and opens its record, with room reserved for
  //    the verdict, before LUO's copy of the state is consumed.
  std::unique_ptr<RecordFile> record;
  auto open_record = [&](const state::RunState& st) -> Status {
    record = LU_TRY(RecordFile::resume(paths, st));
    return record->reserve();
  };
  auto armed = LU_TRY(take_armed_state(luo.get(), paths, facts, open_record));
  // 3. LUO's copy may name another iteration than the file did (a stale file): its record then.
  if (record->path() != paths.record_file(armed.state.iteration, armed.state.run_id)) LU_TRY_VOID(open_record(armed.state));
  auto& journal = *armed.journal;
  StopSignals stop([&](int signal) { on_stop_signal(*record, journal, facts, request, signal); });
  // 4-6. Every check, each result durable before the FINISH that would make it unrepeatable.
  PostRun run(machine, luo.get(), paths, facts, armed, *record, started, request.expect_nonce);
  auto outcome = LU_TRY(run.execute());
  // 7. The verdict is written; the iteration is over.
  LU_TRY_VOID(journal.done(run_outcome_name(outcome), facts.boot_id));
  LU_TRY_VOID(retire_state(paths));
  Verdict v;
  v.record = record->path();
  v.counts = record->counts();
  v.outcome = outcome;
  v.state = armed.state;
  v.after = facts;
  v.timing = run.timing();
  return v;
}

}  // namespace lu::stages
