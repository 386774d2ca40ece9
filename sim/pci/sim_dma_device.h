// A simulated PCI DMA device (the hardware half of the simulated machine), as a plain C++
// object: config space (config_model.h), the simdma register BAR (vfio/drivers/simdma/regs.h),
// an IOMMU view (iova_space.h) and a DMA engine thread that repeats the armed memcpy at a
// configurable rate while bus mastering is on. No sockets: the simulated machine's server wires
// it to clients and applies its LUO/VFIO rules around it.
//
// Implements PciModel (pci_model.h); bar0_read/bar0_write are the same BAR0 accesses under
// their older names. The destructor stops the engine.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "base/result.h"
#include "sim/pci/config_model.h"
#include "sim/pci/iova_space.h"
#include "sim/pci/pci_model.h"

namespace lu::sim::pci {

struct SimDmaOptions {
  std::string bdf = "0000:00:04.0";
  std::uint32_t copies_per_second = 0;  // RATE after reset; 0 = as fast as possible
};

class SimDmaDevice final : public PciModel {
 public:
  explicit SimDmaDevice(SimDmaOptions options = {});
  ~SimDmaDevice() override;
  SimDmaDevice(const SimDmaDevice&) = delete;
  SimDmaDevice& operator=(const SimDmaDevice&) = delete;

  const std::string& bdf() const override { return options_.bdf; }
  std::string_view kind() const override { return "simdma"; }

  // ---- What the device offers (VFIO's config region and BAR0) ----
  // kInvalidInput (EINVAL) when the range leaves the 4 KiB config space.
  Status config_read(std::uint32_t offset, std::span<std::uint8_t> out) const override;
  // Honours the write masks; a write setting the PCIe FLR bit resets the device.
  Status config_write(std::uint32_t offset, std::span<const std::uint8_t> data) override;
  // width 4 or 8, naturally aligned, inside BAR0 (regs.h); kInvalidInput otherwise.
  Result<std::uint64_t> bar0_read(std::uint64_t offset, unsigned width) const;
  Status bar0_write(std::uint64_t offset, unsigned width, std::uint64_t value);
  std::uint64_t bar_size(int bar) const override;
  Result<std::uint64_t> bar_read(int bar, std::uint64_t offset, unsigned width) const override;
  Status bar_write(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) override;

  // ---- What the kernel does to it ----
  Status map(const DmaWindow& window) override { return iova_.map(window); }
  Status unmap(std::uint64_t iova, std::uint64_t size) override { return iova_.unmap(iova, size); }
  void unmap_all() override { iova_.unmap_all(); }
  unsigned msix_vectors() const override;
  // vfio-pci's SET_IRQS: programs and unmasks `vectors` MSI-X entries and sets MSI-X enable.
  // kInvalidInput when vectors is 0 or above the table size.
  Status enable_msix(unsigned vectors) override;
  void disable_msix() override;
  // Where raised MSI-X vectors go (the server signals the client's eventfd). Called without
  // the device lock held.
  void set_msi_sink(std::function<void(unsigned vector)> sink) override;
  // A kexec must be refused while this is true.
  bool interrupts_enabled() const override;
  // Function-level reset: stops DMA, zeroes the registers and restores config-space defaults
  // (command register 0: bus master off, MSI-X off). Mappings stay: they belong to the IOMMU.
  void reset() override;
  // Freeze: the engine issues no DMA and makes no progress until unfreeze(); the job and its
  // progress are kept exactly (a device quiesced while the kernel serialises it).
  void freeze() override;
  void unfreeze() override;
  bool frozen() const override;

  // ---- Faults ----
  void clear_bus_master() override;                    // command bit 2 cleared behind the driver's back
  void corrupt_config_byte(std::uint32_t offset) override;  // flips every bit of one config byte
  void stall_dma() override;                           // BUSY stays set, no more progress, until reset
  // Flips one byte of the destination (at `offset` into the job's destination), now and after
  // every later copy: a device writing bad data, visible whether or not the job still runs.
  void corrupt_destination(std::uint64_t offset = 0) override;
  void reset_anyway() override;                        // a reset the profile says must not happen

  // ---- Snapshots ----
  std::array<std::uint8_t, kConfigSize> config_snapshot() const override;
  std::uint64_t progress() const;
  std::uint32_t status() const;
  bool bus_master() const override;
  std::uint64_t resets() const override;  // resets since construction (FLR, reset(), reset_anyway())
  bool dma_pending() const override;
  std::uint64_t msis_raised() const override;
  // Blocks until progress() >= copies or the timeout passes; returns progress().
  std::uint64_t wait_for_progress(std::uint64_t copies, std::chrono::milliseconds timeout) const;

 private:
  struct Job {
    std::uint64_t src = 0, dst = 0, size = 0, count = 0;
  };
  using Clock = std::chrono::steady_clock;

  void engine();
  bool runnable_locked() const;
  void reset_locked();
  void start_locked();
  void fail_job_locked(std::uint32_t code, std::uint64_t iova);
  void corrupt_destination_locked();
  std::uint32_t read32_locked(std::uint64_t offset) const;
  // Returns the vector to deliver after the lock is dropped, if any.
  std::optional<unsigned> write32_locked(std::uint64_t offset, std::uint32_t value);

  SimDmaOptions options_;
  IovaSpace iova_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // engine wake-ups and progress waiters
  ConfigModel config_;
  // Registers (regs.h).
  std::uint32_t scratch_ = 0;
  Job regs_{};  // SRC/DST/SIZE/COUNT as written
  Job job_{};   // latched at START
  std::uint32_t status_ = 0;
  std::uint64_t progress_ = 0;
  std::uint32_t rate_ = 0;
  std::uint64_t error_iova_ = 0;
  std::uint64_t jobs_ = 0;
  std::array<std::uint32_t, 4 * 4> msix_table_{};  // 4 vectors x (addr lo, addr hi, data, control)
  std::uint64_t msix_pba_ = 0;
  // Engine state.
  std::uint64_t generation_ = 0;  // bumped by START, ABORT and reset: a copy in flight then does not count
  Clock::time_point next_copy_{};
  bool frozen_ = false;
  bool stalled_ = false;
  std::optional<std::uint64_t> corrupt_offset_;
  std::uint64_t resets_ = 0;
  std::uint64_t msis_ = 0;
  std::function<void(unsigned)> msi_sink_;
  bool stop_ = false;
  std::thread thread_;  // last: started after every member above exists
};

}  // namespace lu::sim::pci
