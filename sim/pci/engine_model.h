// The machinery every descriptor-driven model shares (DSA, CBDMA): config space, MSI-X table
// and delivery, the IOMMU view, BAR access checks, reset/freeze, the faults, and an engine
// thread that performs one unit of work at a time while bus mastering is on and nothing holds
// it back. A model supplies its registers and its unit of work through the hooks below.
//
// Lifetime: the derived constructor calls start_engine() last, the derived destructor calls
// stop_engine() first (the thread calls the hooks, which use the derived members).
// Locking: one mutex (mu_) guards the base state and the derived model's registers; every
// *_locked hook runs with it held. MSIs raised under the lock are delivered after it is dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "sim/pci/pci_model.h"

namespace lu::sim::pci {

struct EngineOptions {
  std::string bdf;
  // The engine's bandwidth: 0 = as fast as memmove. A real device's speed, so a long copy can
  // span a simulated blackout without any knob the driver would have to know.
  std::uint64_t bytes_per_second = 0;
};

class EngineModel : public PciModel {
 public:
  EngineModel(EngineOptions options, const ConfigIdentity& identity);
  ~EngineModel() override;
  EngineModel(const EngineModel&) = delete;
  EngineModel& operator=(const EngineModel&) = delete;

  const std::string& bdf() const override { return options_.bdf; }
  Status config_read(std::uint32_t offset, std::span<std::uint8_t> out) const override;
  Status config_write(std::uint32_t offset, std::span<const std::uint8_t> data) override;
  std::uint64_t bar_size(int bar) const override;
  Result<std::uint64_t> bar_read(int bar, std::uint64_t offset, unsigned width) const override;
  Status bar_write(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) override;
  Status bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data) override;

  Status map(const DmaWindow& window) override { return iova_.map(window); }
  Status unmap(std::uint64_t iova, std::uint64_t size) override { return iova_.unmap(iova, size); }
  void unmap_all() override { iova_.unmap_all(); }
  unsigned msix_vectors() const override { return config_.identity().msix_vectors; }
  Status enable_msix(unsigned vectors) override;
  void disable_msix() override;
  void set_msi_sink(std::function<void(unsigned vector)> sink) override;
  bool interrupts_enabled() const override;
  void reset() override;
  void freeze() override;
  void unfreeze() override;
  bool frozen() const override;

  void clear_bus_master() override;
  void corrupt_config_byte(std::uint32_t offset) override;
  void stall_dma() override;
  void corrupt_destination(std::uint64_t offset = 0) override;
  void reset_anyway() override { reset(); }

  std::array<std::uint8_t, kConfigSize> config_snapshot() const override;
  bool bus_master() const override;
  bool dma_pending() const override;
  std::uint64_t resets() const override;
  std::uint64_t msis_raised() const override;
  // Blocks until no DMA is pending or the timeout passes; returns !dma_pending().
  bool wait_idle(std::chrono::milliseconds timeout) const;

 protected:
  // ---- Hooks ----
  // Registers outside the MSI-X table and PBA; offset/width already checked.
  virtual std::uint64_t reg_read_locked(int bar, std::uint64_t offset, unsigned width) const = 0;
  virtual void reg_write_locked(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) = 0;
  // A 64-byte submission; default: refused with EINVAL (no portal).
  virtual Status submit_locked(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data);
  // Which widths a register access may have (a bitmask of 1 << width); default 4 and 8.
  virtual unsigned widths(int /*bar*/) const { return (1u << 4) | (1u << 8); }
  virtual bool has_work_locked() const = 0;
  // One unit of work (a descriptor); returns the bytes it moved. May drop the lock only inside
  // copy_locked().
  virtual std::uint64_t step_locked(std::unique_lock<std::mutex>& lock) = 0;
  // The device's registers to their power-on values (config space and MSI-X are the base's).
  virtual void reset_registers_locked() = 0;

  // ---- Helpers for the hooks ----
  void start_engine();
  void stop_engine();
  // Raises MSI-X `vector`: delivered after the lock drops, or pending when masked or disabled.
  void raise_msix_locked(unsigned vector);
  // Small DMA under the lock (descriptor fetch, completion write); false on a translation fault.
  bool dma_read_locked(std::uint64_t iova, std::span<std::uint8_t> out) const;
  bool dma_write_locked(std::uint64_t iova, std::span<const std::uint8_t> in);
  struct CopyResult {
    bool ok = false;
    bool aborted = false;  // a reset or freeze happened while the copy ran: do not count it
    std::uint64_t fault_iova = 0;
    bool fault_on_write = false;
  };
  // The bulk copy, with the lock dropped around the memmove. Applies corrupt_destination().
  CopyResult copy_locked(std::unique_lock<std::mutex>& lock, std::uint64_t src, std::uint64_t dst, std::uint64_t size);
  const ConfigModel& config() const { return config_; }
  ConfigModel& config() { return config_; }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // engine wake-ups and idle waiters

 private:
  using Clock = std::chrono::steady_clock;
  void engine();
  bool runnable_locked() const;
  void reset_locked();
  void deliver(std::unique_lock<std::mutex>& lock);
  Status check_access(int bar, std::uint64_t offset, unsigned width, const char* op) const;
  bool in_msix(int bar, std::uint64_t offset) const;
  std::uint32_t msix_read_locked(std::uint64_t offset) const;
  void msix_write_locked(std::uint64_t offset, std::uint32_t value);
  void corrupt_last_destination_locked();

  EngineOptions options_;
  IovaSpace iova_;
  ConfigModel config_;
  std::vector<std::uint32_t> msix_table_;  // vectors x (addr lo, addr hi, data, control)
  std::uint64_t msix_pba_ = 0;
  std::vector<unsigned> outbox_;  // vectors raised under the lock, delivered after it
  std::function<void(unsigned)> sink_;
  std::uint64_t generation_ = 0;  // bumped by reset and freeze: a copy then in flight does not count
  bool frozen_ = false;
  bool stalled_ = false;
  std::optional<std::uint64_t> corrupt_offset_;
  std::uint64_t last_dst_ = 0, last_size_ = 0;
  Clock::time_point next_work_{};
  std::uint64_t resets_ = 0;
  std::uint64_t msis_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lu::sim::pci
