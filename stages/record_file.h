// One iteration's KTAP record. The pre stage creates it (one attempt per file: never reused),
// the post stage appends its results in plan order, each fsync'ed before the step that would
// make it unrepeatable, and a rerun of an interrupted post stage continues after the numbers
// already written instead of repeating the plan. The newest record is hard-linked as
// STATE_DIR/lu-test.ktap; older ones stay under STATE_DIR/records/ (history is never truncated).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "state/records.h"
#include "stages/ktap.h"
#include "stages/outcome.h"
#include "stages/paths.h"

namespace lu::stages {

// What a run came to, beyond the per-check outcomes.
enum class RunOutcome { kPass, kFail, kError, kSkip, kMiss, kCancelled };
const char* run_outcome_name(RunOutcome o);

struct Counts {
  int passed = 0, failed = 0, errors = 0, skipped = 0, xfailed = 0;
  void add(Outcome o);
  RunOutcome overall() const;
  std::string totals() const;  // "pass:N fail:N xfail:N xpass:0 skip:N error:N"
};

struct WrittenResult {
  std::uint32_t number = 0;
  std::string name;
  Outcome outcome = Outcome::kError;
};

class RecordFile {
 public:
  static Result<std::unique_ptr<RecordFile>> create(const Paths& paths, const state::RunState& st);
  // kNotFound when the pre stage never created it.
  static Result<std::unique_ptr<RecordFile>> resume(const Paths& paths, const state::RunState& st);

  const std::string& path() const { return path_; }
  // Reserves room on disk for the rest of this record (fallocate, size kept), so a full disk
  // stops the post stage before it consumes anything rather than in the middle of its verdict.
  Status reserve();
  KtapStream& stream() { return ktap_; }  // header lines; the pre stage writes them
  Status diagnostic(const std::string& text);
  // Writes `r` under its planned number, fsync'ed, unless the file already holds that number
  // (then the first result stands). kInternal for a name that is not in the plan.
  Status write(const CheckResult& r);
  bool has(const std::string& name) const;
  // Every planned check without a result gets `outcome` with `reason` (ERROR for an aborted
  // run, SKIP for a cancelled or skipped one); no-op for the checks already written.
  Status close_remaining(Outcome outcome, const std::string& reason);
  // Totals and `# lu-test verdict: X`, fsync'ed, and this record becomes STATE_DIR/lu-test.ktap.
  // Once closed, later writes are ignored (a signal handler may close it under the caller).
  Status close(RunOutcome verdict);
  Status close();  // the verdict the results add up to
  bool closed() const;
  Counts counts() const;
  std::vector<WrittenResult> results() const;  // in file order, earlier attempts included

 private:
  RecordFile(std::string path, KtapStream ktap, const state::RunState& st);
  Status write_locked(const CheckResult& r);

  std::string path_;
  KtapStream ktap_;
  std::vector<std::string> plan_;
  std::vector<WrittenResult> written_;
  bool closed_ = false;
  mutable std::mutex mu_;
};

// Makes `record` the newest: hard link at STATE_DIR/lu-test.ktap (atomic rename over the old).
Status link_latest(const Paths& paths, const std::string& record);

}  // namespace lu::stages
