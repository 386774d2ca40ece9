#include "stages/armed_state.h"

#include "base/clock.h"
#include "state/store.h"

namespace lu::stages {
namespace {

// LUO's state session. Journaled as "consuming" first: once retrieved, only this process can
// finish it, and its death finishes it implicitly.
void retrieve_from_luo(luo::Device& luo, ArmedState& a) {
  if (a.journal) (void)a.journal->consuming();
  auto s = luo.retrieve_session(state::kStateSessionName);
  if (!s) {
    a.luo_problem = s.error().message();
    return;
  }
  a.state_session = std::move(*s);
  auto st = state::load_from_session(*a.state_session);
  if (!st) {
    a.luo_problem = st.error().message();
    return;
  }
  if (!a.state.run_id.empty() && (st->run_id != a.state.run_id || st->iteration != a.state.iteration))
    a.luo_problem = "the state file names run " + a.state.run_id + ", LUO's copy run " + st->run_id + ": LUO's is used";
  a.state = std::move(*st);
  a.from_luo = true;
}

Status open_journal(const Paths& paths, const BootFacts& facts, ArmedState& a) {
  a.journal.emplace(LU_TRY(PostJournal::open(paths.post_journal(a.state.iteration, a.state.run_id))));
  a.earlier = a.journal->earlier();
  if (a.earlier.done) {
    bool this_boot = a.earlier.done_boot_id == facts.boot_id;
    return fail(ErrorKind::kAlreadyDone, "stage post", paths.record_file(a.state.iteration, a.state.run_id),
                "the post stage of run " + a.state.run_id + " iteration " + std::to_string(a.state.iteration) +
                    " already ran to its verdict (" + a.earlier.verdict + ")" +
                    (this_boot ? " on this boot" : " on an earlier boot") +
                    "; `lu-test report` shows it, `lu-test stage pre` arms the next run");
  }
  return a.journal->attempt(facts.boot_id, realtime_ns());
}

// No state file: LUO may still carry the state (a state dir in RAM); otherwise say what the
// last run came to, so a second post stage is not mistaken for a missing pre stage.
Result<ArmedState> without_state_file(luo::Device* luo, const Paths& paths, const BootFacts& facts,
                                      const PrepareRecord& prepare) {
  ArmedState a;
  if (luo) retrieve_from_luo(*luo, a);
  if (a.from_luo) {
    LU_TRY_VOID(open_journal(paths, facts, a));
    LU_TRY_VOID(prepare(a.state));
    return a;
  }
  if (auto last = state::FileStore(paths.last_state_file()).load()) {
    auto done = PostJournal::read(paths.post_journal(last->iteration, last->run_id));
    if (done.done && done.done_boot_id == facts.boot_id)
      return fail(ErrorKind::kAlreadyDone, "stage post", paths.record_file(last->iteration, last->run_id),
                  "this kexec's post stage already ran (run " + last->run_id + " iteration " +
                      std::to_string(last->iteration) + ", verdict " + done.verdict +
                      "); `lu-test report` shows it, `lu-test stage pre` arms the next run");
  }
  return fail(ErrorKind::kStageMismatch, "stage post", paths.state_file(),
              "nothing is armed: neither an incoming lu-test state session nor a state file; this boot does not "
              "follow `lu-test stage pre` (run that first)");
}

}  // namespace

Result<std::unique_ptr<luo::Device>> open_luo_if_present(Machine& machine) {
  auto dev = machine.luo().open();
  if (dev) return std::move(*dev);
  if (dev.error().kind == ErrorKind::kUnavailable) return std::unique_ptr<luo::Device>();
  return fail(dev.error());
}

Result<ArmedState> take_armed_state(luo::Device* luo, const Paths& paths, const BootFacts& facts,
                                    const PrepareRecord& prepare) {
  auto file = state::FileStore(paths.state_file()).load();
  if (!file && file.error().kind != ErrorKind::kNoState) return fail(file.error());
  if (!file) return without_state_file(luo, paths, facts, prepare);
  if (file->boot_id_before == facts.boot_id)
    return fail(ErrorKind::kStageMismatch, "stage post", paths.state_file(),
                "this is still the boot that armed run " + file->run_id +
                    " (boot id unchanged): the kexec has not happened. Nothing was written; `lu-test status` "
                    "shows the holder, `lu-test kexec` performs the kexec");
  ArmedState a;
  a.state = std::move(*file);
  LU_TRY_VOID(open_journal(paths, facts, a));
  LU_TRY_VOID(prepare(a.state));
  if (luo) retrieve_from_luo(*luo, a);
  else a.luo_problem = "LUO is not available on this kernel";
  return a;
}

}  // namespace lu::stages
