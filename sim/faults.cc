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
    {Fault::kBusMasterCleared, "bus-master-cleared", "the device's bus master bit is cleared across the kexec",
     "device.bus-master", true},
    {Fault::kConfigByteChanged, "config-byte-changed",
     "one config-space byte outside the documented mask (subsystem vendor id, 0x2c) flips across the kexec",
     "device.config-space", true},
    {Fault::kDmaStalled, "dma-stalled", "the DMA engine stops making progress at the kexec (busy, no copies)",
     "dma.progress", true},
    {Fault::kDmaDataCorrupted, "dma-data-corrupted", "the device writes one wrong byte into the DMA destination",
     "dma.data", true},
    {Fault::kDeviceReset, "device-reset", "the device is reset at the kexec although the kernel claims to preserve it",
     "device.bus-master", true},
    {Fault::kReopenAllowed, "reopen-allowed",
     "after the kexec, opening a device LUO still holds succeeds instead of failing with EBUSY",
     "device.reopen-ebusy", true},
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
