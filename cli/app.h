// What every lu-test command shares: the backend, the directories, output format.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "machine/machine.h"
#include "sim/client.h"
#include "stages/engine.h"

namespace lu::cli {

struct Global {
  Backend backend = Backend::kKernel;  // --backend; each command has its own default
  std::string run_dir;    // default depends on the backend
  std::string state_dir;  // default depends on the backend
  bool json = false;
  // Simulated machine, when it has to be started.
  std::string sim_kernel_profile = "vfio-full";
  std::vector<std::string> faults;
};

stages::Paths paths_for(const Global& g);
Result<sim::SimOptions> sim_options(const Global& g, bool autostart);
// autostart: start the simulator when none runs yet (sim backend only).
Result<std::unique_ptr<Machine>> connect_machine(const Global& g, bool autostart);
bool is_sim(const Global& g);
// Arms the simulator's faults named in g.faults (validated against the fault table).
Status apply_faults(const Global& g);

// Prints an error the same way everywhere and returns its exit code.
int report_error(const Error& e);

}  // namespace lu::cli
