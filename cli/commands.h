// Each file of cli/ registers one group of commands; main.cc lists the groups.
#pragma once

#include "cli/app.h"

namespace lu::cli {

void add_probe_command(Cli& cli);
void add_stage_commands(Cli& cli);     // stage pre|post, kexec, status, cancel, debug
void add_cycle_command(Cli& cli);
void add_state_command(Cli& cli);
void add_report_command(Cli& cli);
void add_list_command(Cli& cli);
void add_sim_commands(Cli& cli);
void add_loop_command(Cli& cli);

}  // namespace lu::cli
