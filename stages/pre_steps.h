// The named steps of `stage pre` (pre_stage.cc reads as their table of contents).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "luo/luo.h"
#include "machine/machine.h"
#include "stages/engine.h"
#include "stages/scenario.h"

namespace lu::stages {

std::string random_hex(int bytes);
std::vector<std::unique_ptr<Scenario>> wanted_scenarios(const StageOptions& options);

// Step 1: whatever an earlier pre stage left in the state dir. A live holder means a run is
// armed (kStageMismatch); a boot that carries that run's nonce must run its post stage first; an
// armed state nobody will ever post is closed as MISS; a damaged state file is kept aside.
// Returns what the caller should say about it.
Result<std::vector<std::string>> settle_previous_run(const Paths& paths, const BootFacts& facts);

// Step 2: the profile the run is judged against; nullopt for `auto` on a kernel without LUO.
Result<std::optional<Profile>> resolve_profile(Profile requested, const Capabilities& caps);

// Step 3: /dev/liveupdate (nullptr without LUO, when the profile allows that) and lu-test's own
// state session, created first: EEXIST means this boot already holds lu-test state.
struct LuoHandles {
  std::unique_ptr<luo::Device> device;
  std::unique_ptr<luo::Session> state_session;
};
Result<LuoHandles> open_luo_for_pre(Machine& machine, Profile profile);

// Step 4: who this iteration is: numbers continue from the previous record, fresh run id and nonce.
state::RunState new_identity(const Paths& paths, const BootFacts& facts, const PreRequest& request, Profile profile);

// Step 7: the next kernel, with the nonce on its command line; warnings when that command line
// cannot carry a live update.
Status arm_kexec(Machine& machine, const PreRequest& request, const BootFacts& facts, Profile profile,
                 state::RunState& st, std::vector<std::string>& warnings);

// Step 8: every fd to the holder.
Result<int> hand_to_holder(Machine& machine, const Paths& paths, const state::RunState& st, LuoHandles& luo,
                           PreContext& ctx);

}  // namespace lu::stages
