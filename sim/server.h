// The simulated machine's process: a Boost.Asio loop on a SOCK_SEQPACKET socket in the run
// directory. Clients (stage processes, the holder) are separate processes, as on a real machine.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "sim/machine_model.h"

namespace lu::sim {

struct ServerOptions {
  std::string socket_path;
  KernelProfile profile = KernelProfile::kVfioFull;
  FaultSet faults;
  int idle_exit_seconds = 900;  // a forgotten simulator goes away by itself
  std::vector<std::string> devices = {"0000:00:04.0"};  // simulated PCI DMA devices (simdma), by BDF
};

// Runs until `shutdown` is requested or the machine is idle for idle_exit_seconds.
Status serve(const ServerOptions& options, int ready_fd = -1);

}  // namespace lu::sim
