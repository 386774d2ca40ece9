// The holder's guardian: a small process that outlives the holder only to clean up after it.
// If the holder dies without a kexec (killed, OOM, a crash), its sessions are gone, yet the armed
// kernel would still be loaded and a bare `kexec -e` would go ahead and lose everything silently.
// The guardian then unloads the armed kernel (only if the machine is still on the boot that armed
// it) and leaves a note that `lu-test status` and `lu-test kexec` both quote.
#pragma once

#include <set>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "stages/holder.h"

namespace lu::stages {

// Forks the guardian. The holder keeps the returned pipe end and calls `release_guardian`
// before any clean exit; the guardian acts only when the pipe closes without that word.
Result<UniqueFd> start_guardian(const HolderSpec& spec, const std::string& boot_id);
void release_guardian(int pipe_fd);

// Closes every fd of this process except `keep` (both the holder and its guardian start so).
void close_all_except(const std::set<int>& keep);

}  // namespace lu::stages
