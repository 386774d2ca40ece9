// PCI config-space layout and the few operations lu-test needs on it, over any Device.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "vfio/device.h"
#include "vfio/sysfs.h"

namespace lu::vfio::pci {

inline constexpr std::uint32_t kVendorId = 0x00;     // u16
inline constexpr std::uint32_t kDeviceId = 0x02;     // u16
inline constexpr std::uint32_t kCommand = 0x04;      // u16
inline constexpr std::uint32_t kStatus = 0x06;       // u16
inline constexpr std::uint32_t kRevision = 0x08;     // u8
inline constexpr std::uint32_t kClassCode = 0x09;    // u8[3]: prog-if, subclass, class
inline constexpr std::uint32_t kCacheLine = 0x0c;    // u8
inline constexpr std::uint32_t kLatency = 0x0d;      // u8
inline constexpr std::uint32_t kHeaderType = 0x0e;   // u8
inline constexpr std::uint32_t kBar0 = 0x10;         // u32 x 6
inline constexpr std::uint32_t kSubsystemVendor = 0x2c;
inline constexpr std::uint32_t kSubsystemId = 0x2e;
inline constexpr std::uint32_t kCapabilityPointer = 0x34;  // u8
inline constexpr std::uint32_t kInterruptLine = 0x3c;      // u8
inline constexpr std::uint32_t kInterruptPin = 0x3d;       // u8

inline constexpr std::uint16_t kCommandIo = 1u << 0;
inline constexpr std::uint16_t kCommandMemory = 1u << 1;
inline constexpr std::uint16_t kCommandBusMaster = 1u << 2;
inline constexpr std::uint16_t kCommandIntxDisable = 1u << 10;
inline constexpr std::uint16_t kStatusCapabilityList = 1u << 4;

inline constexpr std::uint8_t kCapIdMsi = 0x05;
inline constexpr std::uint8_t kCapIdPcie = 0x10;
inline constexpr std::uint8_t kCapIdMsix = 0x11;
// MSI-X capability: +2 message control (u16: table size - 1 in bits 0..10, bit 14 function
// mask, bit 15 enable), +4 table offset | BIR, +8 PBA offset | BIR.
inline constexpr std::uint32_t kMsixControl = 2;
inline constexpr std::uint32_t kMsixTable = 4;
inline constexpr std::uint32_t kMsixPba = 8;
inline constexpr std::uint16_t kMsixControlEnable = 1u << 15;
inline constexpr std::uint16_t kMsixControlFunctionMask = 1u << 14;
inline constexpr std::uint16_t kMsixControlTableSizeMask = 0x7ff;

inline constexpr std::size_t kConfigSpaceSize = 4096;  // PCIe extended config space
inline constexpr std::size_t kLegacyConfigSize = 256;

Result<std::uint8_t> read8(Device& dev, std::uint32_t offset);
Result<std::uint16_t> read16(Device& dev, std::uint32_t offset);
Result<std::uint32_t> read32(Device& dev, std::uint32_t offset);
Status write16(Device& dev, std::uint32_t offset, std::uint16_t value);

Result<PciIds> read_ids(Device& dev);
Result<bool> bus_master(Device& dev);
// Read-modify-write of the command register: sets memory-space decoding and bus mastering
// (what a driver needs before it can touch its BAR and issue DMA), or clears bus mastering.
Status set_bus_master(Device& dev, bool on);
// Walks the standard capability list (loop-safe: at most 48 hops); nullopt when absent.
Result<std::optional<std::uint32_t>> find_capability(Device& dev, std::uint8_t id);
// The first `size` bytes of config space (256 or 4096), for byte-for-byte comparison.
Result<std::vector<std::uint8_t>> snapshot(Device& dev, std::size_t size = kConfigSpaceSize);

}  // namespace lu::vfio::pci
