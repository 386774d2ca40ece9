#include "vfio/config_space.h"

#include <algorithm>

#include <cstring>

namespace lu::vfio::pci {
namespace {
template <class T>
Result<T> read_le(Device& dev, std::uint32_t offset) {
  std::uint8_t buf[sizeof(T)];
  LU_TRY_VOID(dev.config_read(offset, buf));
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(buf[i]) << (8 * i));
  return v;
}
}  // namespace

Result<std::uint8_t> read8(Device& dev, std::uint32_t offset) { return read_le<std::uint8_t>(dev, offset); }
Result<std::uint16_t> read16(Device& dev, std::uint32_t offset) { return read_le<std::uint16_t>(dev, offset); }
Result<std::uint32_t> read32(Device& dev, std::uint32_t offset) { return read_le<std::uint32_t>(dev, offset); }

Status write16(Device& dev, std::uint32_t offset, std::uint16_t value) {
  const std::uint8_t buf[2] = {static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8)};
  return dev.config_write(offset, buf);
}

Result<PciIds> read_ids(Device& dev) {
  PciIds ids;
  ids.vendor = LU_TRY(read16(dev, kVendorId));
  ids.device = LU_TRY(read16(dev, kDeviceId));
  return ids;
}

Result<bool> bus_master(Device& dev) {
  auto cmd = LU_TRY(read16(dev, kCommand));
  return (cmd & kCommandBusMaster) != 0;
}

Status set_bus_master(Device& dev, bool on) {
  auto cmd = LU_TRY(read16(dev, kCommand));
  std::uint16_t next = on ? static_cast<std::uint16_t>(cmd | kCommandMemory | kCommandBusMaster)
                          : static_cast<std::uint16_t>(cmd & ~kCommandBusMaster);
  if (next == cmd) return {};
  return write16(dev, kCommand, next);
}

Result<std::optional<std::uint32_t>> find_capability(Device& dev, std::uint8_t id) {
  auto status = LU_TRY(read16(dev, kStatus));
  if (!(status & kStatusCapabilityList)) return std::optional<std::uint32_t>{};
  std::uint8_t pos = LU_TRY(read8(dev, kCapabilityPointer));
  // 48 = (256 - 64) / 4: more hops than that means a loop in a corrupted list.
  for (int hops = 0; hops < 48 && pos >= 0x40; ++hops) {
    pos &= 0xfc;
    std::uint8_t cap = LU_TRY(read8(dev, pos));
    if (cap == id) return std::optional<std::uint32_t>(pos);
    pos = LU_TRY(read8(dev, pos + 1u));
  }
  return std::optional<std::uint32_t>{};
}

Result<std::vector<std::uint8_t>> snapshot(Device& dev, std::size_t size) {
  // Conventional PCI devices (QEMU's edu among them) have 256 bytes, PCIe 4096: read what the
  // config region really has, never past it.
  auto region = LU_TRY(dev.region_info(kConfigRegion));
  if (region.size > 0) size = std::min<std::size_t>(size, region.size);
  std::vector<std::uint8_t> bytes(size);
  LU_TRY_VOID(dev.config_read(0, bytes));
  return bytes;
}

}  // namespace lu::vfio::pci
