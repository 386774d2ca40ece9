// An iteration that ends without a post stage still ends in its record.
#include <cerrno>
#include <cstdio>

#include "base/files.h"
#include "stages/engine.h"
#include "stages/post_journal.h"
#include "state/store.h"

namespace lu::stages {

Status close_armed_iteration(const Paths& paths, const state::RunState& st, RunOutcome verdict, Outcome checks,
                             const std::string& reason, const std::string& retired_as) {
  auto record = RecordFile::resume(paths, st);
  if (!record && record.error().kind == ErrorKind::kNotFound) {
    // The pre stage's record is gone (a state dir restored from elsewhere): a new one says why.
    record = RecordFile::create(paths, st);
    if (record) LU_TRY_VOID((*record)->stream().header(st.planned_checks.size()));
  }
  if (!record) return fail(record.error());
  LU_TRY_VOID((*record)->diagnostic(std::string(run_outcome_name(verdict)) + ": " + reason));
  LU_TRY_VOID((*record)->close_remaining(checks, reason));
  LU_TRY_VOID((*record)->close(verdict));
  if (auto journal = PostJournal::open(paths.post_journal(st.iteration, st.run_id)))
    (void)journal->done(run_outcome_name(verdict), "-");
  std::string aside = paths.state_dir + "/" + retired_as;
  if (::rename(paths.state_file().c_str(), aside.c_str()) != 0 && errno != ENOENT)
    return fail(ErrorKind::kSystem, "rename", paths.state_file(), "the closed state stays where it is", errno);
  // The next iteration's number follows this one, and its sessions must be gone then too.
  return state::FileStore(paths.last_state_file()).save(st);
}

}  // namespace lu::stages
