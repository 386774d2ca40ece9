// A register-level model of an Intel Data Streaming Accelerator (DSA, 8086:0b25), written from
// the kernel's idxd register definitions (drivers/dma/idxd/registers.h, include/uapi/linux/
// idxd.h), not from lu-test's driver.
//
// What it models:
// - BAR0: version, capabilities (GENCAP, WQCAP, GRPCAP, ENGCAP, OPCAP), the table offsets, the
//   group and work-queue configuration tables, GENSTS, INTCAUSE, the command interface
//   (CMD/CMDSTS/CMDCAP: enable/disable/drain/abort/reset of the device and of work queues),
//   SWERR, and the MSI-X table (vector 0: errors and commands; 1..N: completions).
// - BAR2: one 16 KiB portal block per work queue; a 64-byte submission (MOVDIR64B) to a
//   dedicated, enabled work queue with room queues the descriptor. Shared work queues are not
//   offered (WQCAP.shared_mode = 0).
// - The engine: NOOP, DRAIN, MEMMOVE and BATCH (the descriptor list fetched from memory, then
//   executed one descriptor per engine step, so progress is visible), completion records (on
//   RCR, and on every failure when CRAV is set), completion interrupts (RCI, int_handle = the
//   MSI-X vector), and the error paths: page faults, range and alignment errors, bad opcodes
//   as completion statuses; unwritable completion records and refused submissions in SWERR.
// Choices where the facts are silent: a submission to a disabled or full work queue is
// dropped and recorded in SWERR with error 0x20; the engine is one queue-ordered pipeline.
#pragma once

#include <array>
#include <deque>
#include <optional>
#include <vector>

#include "sim/pci/engine_model.h"

namespace lu::sim::pci {

struct DsaOptions {
  EngineOptions engine{.bdf = "0000:00:06.0"};
  std::uint16_t device_id = 0x0b25;  // Sapphire Rapids
  unsigned max_xfer_shift = 31;      // GENCAP: largest transfer 2 GiB
  unsigned max_batch_shift = 10;     // GENCAP: batches of up to 1024 descriptors
  unsigned total_wq_size = 128;
  unsigned num_wqs = 8;
  unsigned num_groups = 4;
  unsigned num_engines = 4;
};

class DsaModel final : public EngineModel {
 public:
  explicit DsaModel(DsaOptions options = {});
  ~DsaModel() override;

  std::string_view kind() const override { return "dsa"; }

 protected:
  std::uint64_t reg_read_locked(int bar, std::uint64_t offset, unsigned width) const override;
  void reg_write_locked(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) override;
  Status submit_locked(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data) override;
  bool has_work_locked() const override;
  std::uint64_t step_locked(std::unique_lock<std::mutex>& lock) override;
  void reset_registers_locked() override;

 private:
  using Desc = std::array<std::uint8_t, 64>;
  struct Wq {
    std::array<std::uint32_t, 16> cfg{};
    bool enabled = false;
    std::deque<Desc> queue;
  };
  struct Batch {
    Desc desc{};
    unsigned wq = 0;
    std::vector<Desc> list;
    std::size_t next = 0;
    std::uint32_t completed = 0;
    bool failed = false;
  };
  struct Outcome {
    std::uint8_t status = 0;  // 0: aborted by a reset or freeze, nothing to report
    std::uint64_t fault_addr = 0;
    bool fault_write = false;
    std::uint32_t descs = 0;
    std::uint64_t moved = 0;
  };

  std::uint32_t read32_locked(std::uint64_t offset) const;
  std::uint64_t qword_locked(std::uint64_t offset) const;
  void write32_locked(std::uint64_t offset, std::uint32_t value);
  void command_locked(std::uint32_t value);
  std::uint8_t command_error_locked(unsigned cmd, std::uint32_t operand);
  std::uint8_t enable_device_error_locked() const;
  std::uint8_t enable_wq_error_locked(std::uint32_t wq) const;
  void software_error_locked(std::uint8_t error, const Desc* desc, unsigned wq, std::uint64_t fault_addr);
  Outcome execute_locked(std::unique_lock<std::mutex>& lock, const Desc& d, unsigned wq, bool in_batch);
  std::optional<Outcome> start_batch_locked(const Desc& d, unsigned wq);
  void complete_locked(const Desc& d, unsigned wq, const Outcome& o);
  bool op_allowed(const Wq& wq, unsigned opcode) const;
  void drop_work_locked();

  DsaOptions options_;
  std::uint32_t gencfg_ = 0, genctrl_ = 0, state_ = 0, intcause_ = 0, cmd_ = 0, cmdsts_ = 0;
  std::array<std::uint64_t, 4> swerr_{};
  std::vector<std::array<std::uint64_t, 8>> groups_;  // wqs[4], engines, flags, 2 reserved
  std::vector<Wq> wqs_;
  std::vector<std::uint64_t> msix_perm_;
  std::optional<Batch> batch_;
  bool drain_pending_ = false;
};

}  // namespace lu::sim::pci
