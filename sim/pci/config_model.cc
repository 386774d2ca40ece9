#include "sim/pci/config_model.h"


#include "vfio/config_space.h"
#include "vfio/drivers/simdma/regs.h"

namespace lu::sim::pci {
namespace {
namespace cfg = lu::vfio::pci;
}  // namespace

ConfigIdentity simdma_identity() {
  namespace regs = lu::vfio::simdma;
  return {.vendor = regs::kVendorId,
          .device = regs::kDeviceId,
          .class_code = regs::kClassCode,
          .revision = regs::kRevision,
          .subsystem_vendor = regs::kVendorId,
          .subsystem_id = 0x0001,
          .bar_sizes = {regs::kBar0Size, 0, 0, 0, 0, 0},
          .msix_vectors = regs::kMsixVectors,
          .msix_bar = 0,
          .msix_table_offset = static_cast<std::uint32_t>(regs::kMsixTableOffset),
          .msix_pba_offset = static_cast<std::uint32_t>(regs::kMsixPbaOffset)};
}

ConfigModel::ConfigModel(const ConfigIdentity& identity) : identity_(identity) {
  auto mask = [&](std::uint32_t offset, std::uint8_t m) { write_mask_[offset] = m; };
  mask(cfg::kCommand, 0x47);      // I/O, memory, bus master, parity error response
  mask(cfg::kCommand + 1, 0x05);  // SERR, INTx disable
  mask(cfg::kCacheLine, 0xff);
  mask(cfg::kLatency, 0xff);
  // 64-bit memory BARs: address bits from log2(size) up are writable, so writing all-ones
  // reads back the size mask (BAR sizing).
  for (int bar = 0; bar < 6; bar += 2) {
    const std::uint64_t size = identity_.bar_sizes[static_cast<std::size_t>(bar)];
    if (!size) continue;
    const std::uint64_t writable = ~(size - 1);
    for (std::uint32_t i = 0; i < 8; ++i)
      mask(cfg::kBar0 + 4 * static_cast<std::uint32_t>(bar) + i, static_cast<std::uint8_t>(writable >> (8 * i)));
  }
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

void ConfigModel::poke32(std::uint32_t offset, std::uint32_t value) {
  poke16(offset, static_cast<std::uint16_t>(value));
  poke16(offset + 2, static_cast<std::uint16_t>(value >> 16));
}

std::uint16_t ConfigModel::peek16(std::uint32_t offset) const {
  return static_cast<std::uint16_t>(bytes_[offset] | (bytes_[offset + 1] << 8));
}

std::uint32_t ConfigModel::peek32(std::uint32_t offset) const {
  return peek16(offset) | (std::uint32_t{peek16(offset + 2)} << 16);
}

void ConfigModel::restore_defaults() {
  const ConfigIdentity& id = identity_;
  bytes_.fill(0);
  poke16(cfg::kVendorId, id.vendor);
  poke16(cfg::kDeviceId, id.device);
  poke16(cfg::kStatus, cfg::kStatusCapabilityList);
  bytes_[cfg::kRevision] = id.revision;
  bytes_[cfg::kClassCode] = static_cast<std::uint8_t>(id.class_code);
  bytes_[cfg::kClassCode + 1] = static_cast<std::uint8_t>(id.class_code >> 8);
  bytes_[cfg::kClassCode + 2] = static_cast<std::uint8_t>(id.class_code >> 16);
  for (int bar = 0; bar < 6; bar += 2)
    if (id.bar_sizes[static_cast<std::size_t>(bar)]) bytes_[cfg::kBar0 + 4 * static_cast<std::uint32_t>(bar)] = 0x04;  // memory, 64-bit
  poke16(cfg::kSubsystemVendor, id.subsystem_vendor);
  poke16(cfg::kSubsystemId, id.subsystem_id);
  bytes_[cfg::kCapabilityPointer] = kMsixCapOffset;
  bytes_[cfg::kInterruptPin] = 1;  // INTA
  // MSI-X: table size N-1, table and PBA offsets with the BAR indicator in bits 0..2.
  bytes_[kMsixCapOffset] = cfg::kCapIdMsix;
  bytes_[kMsixCapOffset + 1] = kPcieCapOffset;
  poke16(kMsixCapOffset + cfg::kMsixControl, static_cast<std::uint16_t>(id.msix_vectors - 1));
  poke32(kMsixCapOffset + cfg::kMsixTable, id.msix_table_offset | id.msix_bar);
  poke32(kMsixCapOffset + cfg::kMsixPba, id.msix_pba_offset | id.msix_bar);
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
    bytes_[at] = static_cast<std::uint8_t>(bytes_[at] & ~(data[i] & w1c_mask_[at]));
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
