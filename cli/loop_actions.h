// The loop's steps as the commands run them: after a post stage, on a boot that missed its
// post stage, and the driver that runs a whole loop on the simulated machine.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli/app.h"
#include "stages/engine.h"
#include "stages/loop/loop.h"

namespace lu::cli {

// After `stage post`: when the run belongs to the active loop, record it and re-arm (or end).
// Returns 0, or the exit code of an error (which is then printed).
int continue_loop(const Global& g, Machine& machine, const stages::Verdict& verdict);
// `loop resume`: the post stage when this boot is the armed kexec, else a MISS; then re-arm.
int resume_boot(const Global& g);
// `loop run`: drives the active loop on the simulated machine, each stage its own process.
int drive_sim_loop(const Global& g, const std::vector<std::string>& fault_at);
// One line a lab engineer reads on the console: iteration i of N, last verdict, time left.
void print_progress(const stages::loop::LoopPlan& plan, const stages::loop::LoopLedger& ledger, std::FILE* out);

}  // namespace lu::cli
