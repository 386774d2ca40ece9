// The 4 KiB PCI config space of a simulated device: default contents from a ConfigIdentity,
// per-byte write masks (read-only ids, writable command register, BAR sizing, write-1-to-clear
// bytes a model declares), and the capability list (MSI-X at 0x40, PCIe at 0x50).
// Not thread-safe: the owning model serialises access.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace lu::sim::pci {

inline constexpr std::size_t kConfigSize = 4096;
inline constexpr std::uint32_t kMsixCapOffset = 0x40;
inline constexpr std::uint32_t kPcieCapOffset = 0x50;
inline constexpr std::uint32_t kPcieDevCtl = kPcieCapOffset + 8;  // u16; bit 15 initiates FLR
inline constexpr std::uint16_t kPcieDevCtlFlr = 1u << 15;

// Who the device says it is, and where its BARs and MSI-X structures are.
struct ConfigIdentity {
  std::uint16_t vendor = 0;
  std::uint16_t device = 0;
  std::uint32_t class_code = 0;  // class, subclass, prog-if
  std::uint8_t revision = 0;
  std::uint16_t subsystem_vendor = 0;
  std::uint16_t subsystem_id = 0;
  // 64-bit memory BARs, by the index of their low dword (0, 2, 4): a power of two >= 4 KiB, or
  // 0 for none. Odd indices are the high dwords and must be 0.
  std::array<std::uint64_t, 6> bar_sizes{};
  std::uint32_t msix_vectors = 1;
  std::uint8_t msix_bar = 0;  // table and PBA live in this BAR
  std::uint32_t msix_table_offset = 0;
  std::uint32_t msix_pba_offset = 0;
};

// simdma's identity (vfio/drivers/simdma/regs.h).
ConfigIdentity simdma_identity();

class ConfigModel {
 public:
  explicit ConfigModel(const ConfigIdentity& identity = simdma_identity());

  const ConfigIdentity& identity() const { return identity_; }
  // Restores the power-on contents (what a reset leaves behind).
  void restore_defaults();
  void read(std::uint32_t offset, std::span<std::uint8_t> out) const;
  // Applies the write masks; returns true when the write asked for a function-level reset.
  bool write(std::uint32_t offset, std::span<const std::uint8_t> data);
  // Makes `mask` bits of the byte at `offset` write-1-to-clear (error status registers).
  void set_w1c(std::uint32_t offset, std::uint8_t mask) { w1c_mask_[offset] = mask; }
  // Bypasses the masks: what a fault or the model's own state changes do.
  void poke8(std::uint32_t offset, std::uint8_t value) { bytes_[offset] = value; }
  void poke16(std::uint32_t offset, std::uint16_t value);
  void poke32(std::uint32_t offset, std::uint32_t value);
  std::uint8_t peek8(std::uint32_t offset) const { return bytes_[offset]; }
  std::uint16_t peek16(std::uint32_t offset) const;
  std::uint32_t peek32(std::uint32_t offset) const;

  std::uint16_t command() const;
  bool bus_master() const;
  bool msix_enabled() const;
  bool msix_function_masked() const;
  const std::array<std::uint8_t, kConfigSize>& bytes() const { return bytes_; }

 private:
  ConfigIdentity identity_;
  std::array<std::uint8_t, kConfigSize> bytes_{};
  std::array<std::uint8_t, kConfigSize> write_mask_{};
  std::array<std::uint8_t, kConfigSize> w1c_mask_{};
};

}  // namespace lu::sim::pci
