#include "sim/faults.h"

namespace lu::sim {
namespace {
constexpr FaultInfo kFaults[] = {
    {Fault::kSessionLost, "session-lost", "one preserved session is missing from the handover", "sessions.retrieved"},
    {Fault::kMemfdByteFlipped, "memfd-byte-flipped", "one byte of a preserved memfd flips during the handover",
     "memfd.content"},
    {Fault::kFreezeRefused, "freeze-refused", "a file handler refuses to freeze: reboot(KEXEC) fails with EAGAIN",
     "kexec.nonce"},
    {Fault::kFirmwareReboot, "firmware-reboot",
     "the machine reboots through firmware instead: nothing handed over, the default command line", "kexec.nonce"},
    {Fault::kHolderKilled, "holder-killed", "the fd holder is SIGKILLed just before the kexec syscall",
     "state.retrieved"},
    {Fault::kFinishRefused, "finish-refused", "SESSION_FINISH fails with EBUSY after the kexec", "finish.order"},
    {Fault::kSessionNotReleased, "session-not-released",
     "a finished session stays retrievable (the kernel leaks it)", "sessions.no-leftover"},
};
}  // namespace

std::span<const FaultInfo> fault_table() { return kFaults; }

std::optional<Fault> parse_fault(const std::string& name) {
  for (const auto& f : kFaults)
    if (name == f.name) return f.fault;
  return std::nullopt;
}

const FaultInfo& fault_info(Fault f) {
  for (const auto& info : kFaults)
    if (info.fault == f) return info;
  return kFaults[0];
}

}  // namespace lu::sim
