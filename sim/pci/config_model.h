// The 4 KiB PCI config space of the simulated DMA device: default contents, per-byte write
// masks (read-only ids, writable command register, BAR sizing), and the capability list
// (MSI-X at 0x40, PCIe at 0x50). Not thread-safe: SimDmaDevice serialises access.
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

class ConfigModel {
 public:
  ConfigModel();

  // Restores the power-on contents (what a reset leaves behind).
  void restore_defaults();
  void read(std::uint32_t offset, std::span<std::uint8_t> out) const;
  // Applies the write masks; returns true when the write asked for a function-level reset.
  bool write(std::uint32_t offset, std::span<const std::uint8_t> data);
  // Bypasses the masks: what a fault or the model's own state changes do.
  void poke8(std::uint32_t offset, std::uint8_t value) { bytes_[offset] = value; }
  void poke16(std::uint32_t offset, std::uint16_t value);
  std::uint8_t peek8(std::uint32_t offset) const { return bytes_[offset]; }
  std::uint16_t peek16(std::uint32_t offset) const;

  std::uint16_t command() const;
  bool bus_master() const;
  bool msix_enabled() const;
  bool msix_function_masked() const;
  const std::array<std::uint8_t, kConfigSize>& bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, kConfigSize> bytes_{};
  std::array<std::uint8_t, kConfigSize> write_mask_{};
};

}  // namespace lu::sim::pci
