// The simulated machine as seen by lu-test: a Machine whose kernel is the simulator process.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "machine/machine.h"
#include "sim/faults.h"
#include "sim/machine_model.h"

namespace lu::sim {

struct SimOptions {
  std::string run_dir;                              // holds sim.sock
  KernelProfile profile = KernelProfile::kVfioFull;  // used when the simulator is started
  FaultSet faults;
  bool autostart = true;  // start the simulator when nothing listens yet
  int idle_exit_seconds = 900;
  std::string binary = "/proc/self/exe";  // the lu-test that runs `sim serve` (tools embedding the client set it)
};

std::string socket_path(const std::string& run_dir);

// Connects to the simulator in run_dir, starting it first when allowed.
Result<std::unique_ptr<Machine>> connect(const SimOptions& options);
// Starts a simulator in the background (fork + exec of this binary's `sim serve`), waits until
// it listens. kBusy when one already runs there.
Status start(const SimOptions& options);
Status stop(const std::string& run_dir);
Status add_fault(const std::string& run_dir, Fault fault);
// What the user typing `kexec -e` does: the reboot syscall from a process that is not the holder.
Status kexec_now(const std::string& run_dir);

}  // namespace lu::sim
