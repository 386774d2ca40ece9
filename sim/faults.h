// Named faults of the simulated machine: each breaks one continuity check on purpose, so every
// check is proven able to fail. The table drives `lu-test list --faults` and the fault tests.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>

namespace lu::sim {

enum class Fault {
  kSessionLost,
  kMemfdByteFlipped,
  kFreezeRefused,
  kFirmwareReboot,
  kHolderKilled,
  kFinishRefused,
  kSessionNotReleased,
  // Device faults: applied to the simulated PCI devices at the kexec (reopen-allowed: in the
  // new kernel). Their checks exist only with --device.
  kBusMasterCleared,
  kConfigByteChanged,
  kDmaStalled,
  kDmaDataCorrupted,
  kDeviceReset,
  kReopenAllowed,
};

struct FaultInfo {
  Fault fault;
  const char* name;
  const char* effect;
  const char* breaks_check;  // the check that must report not ok
  bool needs_device = false;  // the check exists only with --device (run with a simulated device)
};

std::span<const FaultInfo> fault_table();
std::optional<Fault> parse_fault(const std::string& name);
const FaultInfo& fault_info(Fault f);

using FaultSet = std::set<Fault>;

}  // namespace lu::sim
