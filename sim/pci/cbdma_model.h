// A register-level model of one Intel Crystal Beach DMA (CBDMA, ioat v3.3) channel, 8086:2021
// (Skylake-SP), written from the kernel's ioat register definitions (drivers/dma/ioat/
// registers.h, hw.h), not from lu-test's driver.
//
// What it models:
// - BAR0 global registers: CHANCNT (1), XFERCAP, GENCTRL, INTRCTRL, ATTNSTATUS, VER (0x33),
//   DMA_CAP; the MSI-X table (one vector) at 0x2000, PBA at 0x3000.
// - Channel 0 at 0x80: CHANCTRL (interrupt re-arm, error completion/interrupt/abort enables),
//   CHANCMD (reset, suspend, resume, abort), DMACOUNT (the free-running count of descriptors
//   appended), CHANSTS (last completed descriptor address | ACTIVE/DONE/SUSPENDED/HALTED),
//   CHAINADDR (where the chain starts), CHANCMP (the completion address: CHANSTS is written
//   there on completions that ask for it and on errors), CDAR, CHANERR (write 1 to clear).
// - Config space: CHANERR_INT (0x180) mirrors channel errors, DMAUNCERRSTS (0x148); both write
//   1 to clear.
// - The engine: follows the chain one 64-byte descriptor per step (next pointers), until the
//   descriptors processed since CHAINADDR was written equal DMACOUNT. Copy and null
//   descriptors; compl_write and int_en per descriptor (the interrupt fires once per re-arm).
//   Errors (descriptor fetch, alignment, length, source, destination, completion address)
//   halt the channel with CHANERR bits set; a halted channel with CHANERR set does not restart
//   until CHANERR is cleared or the channel reset.
// Choices where the facts are silent: CHAINADDR is ignored while the channel is ACTIVE; writing
// it resets the processed count (a new chain), which is how a driver restarts after SUSPEND.
#pragma once

#include <cstdint>

#include "sim/pci/engine_model.h"

namespace lu::sim::pci {

struct CbdmaOptions {
  EngineOptions engine{.bdf = "0000:00:07.0"};
  std::uint16_t device_id = 0x2021;  // Skylake-SP
  std::uint8_t xfercap = 20;         // log2 of the largest transfer (1 MiB); 0 would mean 32 GiB
};

class CbdmaModel final : public EngineModel {
 public:
  explicit CbdmaModel(CbdmaOptions options = {});
  ~CbdmaModel() override;

  std::string_view kind() const override { return "cbdma"; }

  struct Reg {  // a register's place in BAR0
    std::uint64_t offset;
    unsigned size;
  };

 protected:
  std::uint64_t reg_read_locked(int bar, std::uint64_t offset, unsigned width) const override;
  void reg_write_locked(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) override;
  unsigned widths(int) const override { return (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8); }
  bool has_work_locked() const override;
  std::uint64_t step_locked(std::unique_lock<std::mutex>& lock) override;
  void reset_registers_locked() override;

 private:
  static const Reg* find_reg(std::uint64_t offset);
  std::uint64_t reg_value_locked(std::uint64_t offset) const;
  void on_write_locked(std::uint64_t offset, std::uint64_t value, std::uint64_t written_mask);
  void command_locked(std::uint8_t cmd);
  void maybe_start_locked();
  void halt_locked(std::uint32_t errors);
  std::uint64_t chansts_locked() const;
  void write_completion_locked();
  void interrupt_locked();
  void reset_channel_locked();

  CbdmaOptions options_;
  std::uint8_t genctrl_ = 0, intrctrl_ = 0;
  std::uint32_t attention_ = 0;
  std::uint16_t chanctrl_ = 0, dmacount_ = 0, processed_ = 0;
  std::uint64_t chainaddr_ = 0, next_ = 0, chancmp_ = 0, cdar_ = 0, last_done_ = 0;
  std::uint32_t chanerr_ = 0, chanerr_mask_ = 0;
  std::uint8_t state_ = 3;  // CHANSTS status: 0 active, 1 done, 2 suspended, 3 halted
  bool chain_set_ = false;  // CHAINADDR written since the last reset
  bool armed_ = false;      // CHANCTRL.INT_REARM written since the last interrupt
};

}  // namespace lu::sim::pci
