// `stage pre`: arm one iteration (DESIGN.md "One cycle", step 1).
#include <unistd.h>

#include "base/clock.h"
#include "base/files.h"
#include "stages/engine.h"
#include "stages/pre_steps.h"
#include "state/store.h"

namespace lu::stages {
namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// The record's header: who, what, where; then every note and warning of the pre stage.
Status write_header(RecordFile& record, const state::RunState& st, const BootFacts& facts,
                    const std::vector<std::string>& notes, const std::vector<std::string>& warnings) {
  LU_TRY_VOID(record.stream().header(st.planned_checks.size()));
  LU_TRY_VOID(record.diagnostic("lu-test run " + st.run_id + " iteration " + std::to_string(st.iteration) +
                                " nonce " + st.nonce + " backend " + st.backend + " profile " + st.profile +
                                " requested " + st.profile_requested + " host " + st.hostname));
  LU_TRY_VOID(record.diagnostic("pre: kernel " + facts.kernel_release + " boot_id " + facts.boot_id));
  for (auto& n : notes) LU_TRY_VOID(record.diagnostic("pre: " + n));
  for (auto& w : warnings) LU_TRY_VOID(record.diagnostic("pre: warning: " + w));
  return {};
}

// `--profile auto` on a kernel without LUO: nothing can be tested, and that is a SKIP with the
// reason, recorded like any other iteration; nothing is armed.
Result<PreResult> skip_run(const Paths& paths, PreResult result, const BootFacts& facts, const std::string& why) {
  auto& st = result.state;
  auto record = LU_TRY(RecordFile::create(paths, st));
  LU_TRY_VOID(write_header(*record, st, facts, result.notes, result.warnings));
  LU_TRY_VOID(record->close_remaining(Outcome::kSkip, why));
  LU_TRY_VOID(record->close(RunOutcome::kSkip));
  LU_TRY_VOID(state::FileStore(paths.last_state_file()).save(st));  // numbering continues
  result.record = record->path();
  result.skipped = true;
  return result;
}

}  // namespace

std::vector<std::string> planned_checks(const StageOptions& options) {
  std::vector<std::string> out;
  for (auto& c : engine_checks_before())
    if (c.name != "kexec.kernel" || !options.expected_release.empty()) out.push_back(c.name);
  for (auto& s : wanted_scenarios(options))
    for (auto& name : s->plan(options)) out.push_back(name);
  for (auto& c : engine_checks_after()) out.push_back(c.name);
  return out;
}

Result<PreResult> stage_pre(Machine& machine, const Paths& paths, const PreRequest& request) {
  PreResult result;
  const std::int64_t started = realtime_ns();
  auto facts = LU_TRY(machine.boot_facts());
  LU_TRY_VOID(make_directories(paths.state_dir));
  LU_TRY_VOID(make_directories(paths.run_dir));
  // 1. What an earlier run left behind.
  result.notes = LU_TRY(settle_previous_run(paths, facts));
  // 2. The profile: before /dev/liveupdate is opened (the probe opens it too; it is exclusive).
  auto caps = LU_TRY(machine.capabilities());
  auto profile = LU_TRY(resolve_profile(request.options.profile, caps));
  // 3. LUO and lu-test's state session.
  auto luo = LU_TRY(open_luo_for_pre(machine, profile.value_or(Profile::kNone)));
  // 4. Who this iteration is.
  result.state = new_identity(paths, facts, request, profile.value_or(Profile::kNone));
  auto& st = result.state;
  st.pre_started_ns = started;
  st.hostname = host_name();
  st.planned_checks = planned_checks(request.options);
  if (!profile) return skip_run(paths, std::move(result), facts, "the kernel has no LUO: " + caps.luo_problem);
  // 5. Scenarios arm their state.
  PreContext ctx(machine, luo.device.get(), st, request.options);
  for (auto& s : wanted_scenarios(request.options))
    if (auto armed = s->pre(ctx); !armed) {
      Error e = armed.error();
      e.op = "scenario " + s->name() + ": " + e.op;
      return fail(e);
    }
  for (auto& n : ctx.notes()) result.notes.push_back(n);
  // 6. Arm the kexec with the nonce; warn about a command line that cannot carry a live update.
  LU_TRY_VOID(arm_kexec(machine, request, facts, *profile, st, result.warnings));
  // 7. The record and both state stores, durable before anything irreversible.
  st.pre_finished_ns = realtime_ns();
  auto record = RecordFile::create(paths, st);
  // A pre stage that fails from here on leaves a record that says why, and nothing armed.
  auto undo_arm = [&](Error e) {
    (void)machine.kexec().unload();
    if (record) {
      (void)(*record)->close_remaining(Outcome::kError, "not run: the pre stage failed: " + e.message());
      (void)(*record)->close(RunOutcome::kError);
    }
    (void)::unlink(paths.state_file().c_str());
    return fail(std::move(e));
  };
  if (!record) return undo_arm(record.error());
  result.record = (*record)->path();
  if (auto h = write_header(**record, st, facts, result.notes, result.warnings); !h) return undo_arm(h.error());
  if (luo.state_session)
    if (auto saved = state::save_to_session(*luo.state_session, st); !saved) return undo_arm(saved.error());
  if (auto saved = state::FileStore(paths.state_file()).save(st); !saved) return undo_arm(saved.error());
  std::string kernel = st.armed_kernel.empty() ? "the machine's own kernel" : st.armed_kernel;
  if (auto d = (*record)->diagnostic("pre: armed " + kernel + " with: " + st.armed_cmdline); !d)
    return undo_arm(d.error());
  // 8. Every fd to the holder.
  auto pid = hand_to_holder(machine, paths, st, luo, ctx);
  if (!pid) return undo_arm(pid.error());
  result.holder_pid = *pid;
  return result;
}

}  // namespace lu::stages
