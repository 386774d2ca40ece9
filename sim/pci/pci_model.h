// What a simulated PCI device offers the simulated machine: one interface that SimDmaDevice
// (simdma), DsaModel (Intel DSA) and CbdmaModel (Intel CBDMA / ioat) implement, so the
// simulator server can host any model per BDF and local_device.h can put any of them behind
// the vfio::Device seam.
//
// The methods fall in the groups VFIO and the LUO model need:
// - what the device offers: config space, BARs (incl. a DSA portal's 64-byte submissions);
// - what the kernel does to it: IOMMU windows, MSI-X routing (vfio-pci's SET_IRQS), reset,
//   freeze/unfreeze around a simulated kexec;
// - faults, each its own method (never a test switch in the normal paths);
// - snapshots for checks and tests.
// Thread-safe: every method may be called from any thread. MSIs reach the sink without any
// model lock held.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/pci/config_model.h"
#include "sim/pci/iova_space.h"

namespace lu::sim::pci {

class PciModel {
 public:
  virtual ~PciModel() = default;

  virtual const std::string& bdf() const = 0;
  virtual std::string_view kind() const = 0;  // "simdma", "dsa", "cbdma": the model table's name

  // ---- What the device offers (VFIO's config region and BAR regions) ----
  // kInvalidInput (EINVAL) when the range leaves the 4 KiB config space.
  virtual Status config_read(std::uint32_t offset, std::span<std::uint8_t> out) const = 0;
  // Honours the write masks; a write setting the PCIe FLR bit resets the device.
  virtual Status config_write(std::uint32_t offset, std::span<const std::uint8_t> data) = 0;
  // Size of BAR `bar` (0..5); 0 when the BAR does not exist.
  virtual std::uint64_t bar_size(int bar) const = 0;
  // width 1, 2, 4 or 8 (each model lists what it accepts), naturally aligned, inside the BAR;
  // kInvalidInput (EINVAL) otherwise.
  virtual Result<std::uint64_t> bar_read(int bar, std::uint64_t offset, unsigned width) const = 0;
  virtual Status bar_write(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) = 0;
  // A 64-byte atomic write (MOVDIR64B): only a work-queue portal accepts it. Default: EINVAL.
  virtual Status bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data);

  // ---- What the kernel does to it ----
  virtual Status map(const DmaWindow& window) = 0;
  virtual Status unmap(std::uint64_t iova, std::uint64_t size) = 0;
  virtual void unmap_all() = 0;
  virtual unsigned msix_vectors() const = 0;
  // vfio-pci's SET_IRQS: programs and unmasks `vectors` MSI-X entries and sets MSI-X enable.
  // kInvalidInput when vectors is 0 or above msix_vectors().
  virtual Status enable_msix(unsigned vectors) = 0;
  virtual void disable_msix() = 0;
  // Where raised MSI-X vectors go (the server signals the client's eventfd).
  virtual void set_msi_sink(std::function<void(unsigned vector)> sink) = 0;
  // A kexec must be refused while this is true.
  virtual bool interrupts_enabled() const = 0;
  // Function-level reset: stops DMA, restores registers and config space (bus master off,
  // MSI-X off). Mappings stay: they belong to the IOMMU.
  virtual void reset() = 0;
  // Freeze: no DMA and no progress until unfreeze(); the device's state is kept exactly.
  virtual void freeze() = 0;
  virtual void unfreeze() = 0;
  virtual bool frozen() const = 0;

  // ---- Faults ----
  virtual void clear_bus_master() = 0;                      // command bit 2 cleared behind the driver's back
  virtual void corrupt_config_byte(std::uint32_t offset) = 0;  // flips every bit of one config byte
  virtual void stall_dma() = 0;                             // the engine stops making progress, until reset
  // Flips one byte of the current copy's destination (at `offset` into it), now and after every
  // later copy.
  virtual void corrupt_destination(std::uint64_t offset = 0) = 0;
  virtual void reset_anyway() = 0;                          // a reset the profile says must not happen

  // ---- Snapshots ----
  virtual std::array<std::uint8_t, kConfigSize> config_snapshot() const = 0;
  virtual bool bus_master() const = 0;
  // True while the engine has work it would perform (queued, running or paused by a freeze,
  // a stall or bus mastering off): "no DMA in flight" is !dma_pending().
  virtual bool dma_pending() const = 0;
  virtual std::uint64_t resets() const = 0;       // resets since construction
  virtual std::uint64_t msis_raised() const = 0;  // MSI-X messages delivered to the sink
};

}  // namespace lu::sim::pci
