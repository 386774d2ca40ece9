// Which armed iteration this boot follows, found before anything is consumed: the state file
// names it (and is the fallback when LUO lost its copy), LUO's state session is the primary copy.
// Refuses the boot that armed the run (no kexec happened yet: nothing is written, `lu-test kexec`
// can still go ahead) and a second post stage after one kexec (kAlreadyDone).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "luo/luo.h"
#include "machine/machine.h"
#include "stages/paths.h"
#include "stages/post_journal.h"
#include "state/records.h"

namespace lu::stages {

struct ArmedState {
  state::RunState state;
  bool from_luo = false;
  std::string luo_problem;                     // why LUO's copy was not used
  std::unique_ptr<luo::Session> state_session;  // retrieved; FINISHed last
  JournalFacts earlier;                        // what earlier attempts of this post stage left
  std::optional<PostJournal> journal;          // this attempt, already journaled
  // An earlier attempt consumed LUO's copy and died before its verdict: what it proved is in
  // the record, what it did not is gone with the sessions.
  bool interrupted() const { return !from_luo && earlier.consumed; }
};

// nullptr when the kernel has no LUO (an outcome: profile none); errors otherwise (EBUSY, EIO).
Result<std::unique_ptr<luo::Device>> open_luo_if_present(Machine& machine);
// `prepare` runs once the iteration is known and before LUO's copy is consumed (the record
// reserves its room then: a full disk must stop the post stage while nothing is lost yet).
using PrepareRecord = std::function<Status(const state::RunState&)>;
Result<ArmedState> take_armed_state(luo::Device* luo, const Paths& paths, const BootFacts& facts,
                                    const PrepareRecord& prepare);

}  // namespace lu::stages
