#include "sim/pci/config_model.h"

#include "vfio/config_space.h"
#include "vfio/drivers/simdma/regs.h"

namespace lu::sim::pci {
namespace {
namespace cfg = lu::vfio::pci;
namespace regs = lu::vfio::simdma;
}  // namespace

ConfigModel::ConfigModel() {
  auto mask = [&](std::uint32_t offset, std::uint8_t m) { write_mask_[offset] = m; };
  mask(cfg::kCommand, 0x47);      // I/O, memory, bus master, parity error response
  mask(cfg::kCommand + 1, 0x05);  // SERR, INTx disable
  mask(cfg::kCacheLine, 0xff);
  mask(cfg::kLatency, 0xff);
  // BAR0: 64-bit memory BAR of 4 KiB: address bits 12..63 writable, so writing all-ones reads
  // back the size mask (BAR sizing).
  mask(cfg::kBar0 + 1, 0xf0);
  for (std::uint32_t i = 2; i < 8; ++i) mask(cfg::kBar0 + i, 0xff);
  mask(cfg::kInterruptLine, 0xff);
  mask(kMsixCapOffset + cfg::kMsixControl + 1, 0xc0);  // MSI-X enable, function mask
  mask(kPcieDevCtl, 0xff);
  mask(kPcieDevCtl + 1, 0xff);  // bit 15 (FLR) is acted on and reads back 0
  restore_defaults();
}

void ConfigModel::poke16(std::uint32_t offset, std::uint16_t value) {
  bytes_[offset] = static_cast<std::uint8_t>(value);
  bytes_[offset + 1] = static_cast<std::uint8_t>(value >> 8);
}

std::uint16_t ConfigModel::peek16(std::uint32_t offset) const {
  return static_cast<std::uint16_t>(bytes_[offset] | (bytes_[offset + 1] << 8));
}

void ConfigModel::restore_defaults() {
  bytes_.fill(0);
  poke16(cfg::kVendorId, regs::kVendorId);
  poke16(cfg::kDeviceId, regs::kDeviceId);
  poke16(cfg::kStatus, cfg::kStatusCapabilityList);
  bytes_[cfg::kRevision] = regs::kRevision;
  bytes_[cfg::kClassCode] = static_cast<std::uint8_t>(regs::kClassCode);
  bytes_[cfg::kClassCode + 1] = static_cast<std::uint8_t>(regs::kClassCode >> 8);
  bytes_[cfg::kClassCode + 2] = static_cast<std::uint8_t>(regs::kClassCode >> 16);
  bytes_[cfg::kBar0] = 0x04;  // memory, 64-bit, not prefetchable
  poke16(cfg::kSubsystemVendor, regs::kVendorId);
  poke16(cfg::kSubsystemId, 0x0001);
  bytes_[cfg::kCapabilityPointer] = kMsixCapOffset;
  bytes_[cfg::kInterruptPin] = 1;  // INTA
  // MSI-X: table size N-1, table and PBA in BAR0.
  bytes_[kMsixCapOffset] = cfg::kCapIdMsix;
  bytes_[kMsixCapOffset + 1] = kPcieCapOffset;
  poke16(kMsixCapOffset + cfg::kMsixControl, regs::kMsixVectors - 1);
  poke16(kMsixCapOffset + cfg::kMsixTable, static_cast<std::uint16_t>(regs::kMsixTableOffset));  // BIR 0
  poke16(kMsixCapOffset + cfg::kMsixPba, static_cast<std::uint16_t>(regs::kMsixPbaOffset));      // BIR 0
  // PCIe v2 endpoint; device capabilities advertise FLR (bit 28).
  bytes_[kPcieCapOffset] = cfg::kCapIdPcie;
  bytes_[kPcieCapOffset + 1] = 0;
  poke16(kPcieCapOffset + 2, 0x0002);
  bytes_[kPcieCapOffset + 4 + 3] = 0x10;
}

void ConfigModel::read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = bytes_[offset + i];
}

bool ConfigModel::write(std::uint32_t offset, std::span<const std::uint8_t> data) {
  bool flr = false;
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::uint32_t at = offset + static_cast<std::uint32_t>(i);
    std::uint8_t m = write_mask_[at];
    bytes_[at] = static_cast<std::uint8_t>((bytes_[at] & ~m) | (data[i] & m));
  }
  if (peek16(kPcieDevCtl) & kPcieDevCtlFlr) {
    poke16(kPcieDevCtl, static_cast<std::uint16_t>(peek16(kPcieDevCtl) & ~kPcieDevCtlFlr));
    flr = true;
  }
  return flr;
}

std::uint16_t ConfigModel::command() const { return peek16(cfg::kCommand); }
bool ConfigModel::bus_master() const { return command() & cfg::kCommandBusMaster; }
bool ConfigModel::msix_enabled() const {
  return peek16(kMsixCapOffset + cfg::kMsixControl) & cfg::kMsixControlEnable;
}
bool ConfigModel::msix_function_masked() const {
  return peek16(kMsixCapOffset + cfg::kMsixControl) & cfg::kMsixControlFunctionMask;
}

}  // namespace lu::sim::pci
