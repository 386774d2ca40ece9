#include "sim/pci/cbdma_model.h"

#include <cstring>

namespace lu::sim::pci {
namespace {

constexpr std::uint64_t kBar0Size = 0x4000;
constexpr std::uint32_t kMsixTable = 0x2000, kMsixPba = 0x3000;
// Global registers (ioat registers.h).
constexpr std::uint64_t kChanCnt = 0x00, kXferCap = 0x01, kGenCtrl = 0x02, kIntrCtrl = 0x03, kAttn = 0x04,
                        kVer = 0x08, kDmaCap = 0x10;
// Channel 0 registers, at 0x80 (one channel MMIO block of 0x80 bytes per channel, after the globals).
constexpr std::uint64_t kChan = 0x80;
constexpr std::uint64_t kChanCtrl = kChan + 0x00, kDmaComp = kChan + 0x02, kChanCmd = kChan + 0x04,
                        kDmaCount = kChan + 0x06, kChanSts = kChan + 0x08, kChainAddr = kChan + 0x10,
                        kChanCmp = kChan + 0x18, kCdar = kChan + 0x20, kChanErr = kChan + 0x28,
                        kChanErrMask = kChan + 0x2c;
constexpr std::uint8_t kVersion = 0x33;
constexpr std::uint8_t kIntrMasterEnable = 0x01, kIntrMsixVectorControl = 0x08;
constexpr std::uint16_t kCtrlIntRearm = 0x0001, kCtrlErrCompletionEn = 0x0004, kCtrlErrIntEn = 0x0010;
constexpr std::uint8_t kCmdReset = 0x20, kCmdResume = 0x10, kCmdAbort = 0x08, kCmdSuspend = 0x04;
enum State : std::uint8_t { kActive = 0, kDone = 1, kSuspended = 2, kHalted = 3 };
constexpr std::uint32_t kErrSrcAddr = 0x0001, kErrDestAddr = 0x0002, kErrNextAddr = 0x0004,
                        kErrNextDescAlign = 0x0008, kErrChainAddrValue = 0x0010, kErrControl = 0x0400,
                        kErrLength = 0x0800, kErrCompletionAddr = 0x1000;
constexpr std::uint32_t kCtlIntEn = 1u << 0, kCtlComplWrite = 1u << 3, kCtlNull = 1u << 5;
constexpr std::uint32_t kOpCopy = 0x00;
// Config space error registers, write 1 to clear.
constexpr std::uint32_t kCfgDmaUncErrSts = 0x148, kCfgChanErrInt = 0x180;

constexpr CbdmaModel::Reg kRegs[] = {
    {kChanCnt, 1}, {kXferCap, 1}, {kGenCtrl, 1}, {kIntrCtrl, 1}, {kAttn, 4}, {kVer, 1}, {kDmaCap, 4},
    {kChanCtrl, 2}, {kDmaComp, 2}, {kChanCmd, 1}, {kDmaCount, 2}, {kChanSts, 8}, {kChainAddr, 8},
    {kChanCmp, 8}, {kCdar, 8}, {kChanErr, 4}, {kChanErrMask, 4},
};

ConfigIdentity identity(const CbdmaOptions& o) {
  return {.vendor = 0x8086, .device = o.device_id, .class_code = 0x088000, .revision = 0x04,
          .subsystem_vendor = 0x8086, .subsystem_id = 0x0000, .bar_sizes = {kBar0Size, 0, 0, 0, 0, 0},
          .msix_vectors = 1, .msix_bar = 0, .msix_table_offset = kMsixTable, .msix_pba_offset = kMsixPba};
}

std::uint32_t u32(const std::uint8_t* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t u64(const std::uint8_t* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }

}  // namespace

CbdmaModel::CbdmaModel(CbdmaOptions options) : EngineModel(options.engine, identity(options)), options_(options) {
  for (std::uint32_t i = 0; i < 4; ++i) {
    config().set_w1c(kCfgChanErrInt + i, 0xff);
    config().set_w1c(kCfgDmaUncErrSts + i, 0xff);
  }
  reset_registers_locked();
  start_engine();
}

CbdmaModel::~CbdmaModel() { stop_engine(); }

void CbdmaModel::reset_registers_locked() {
  genctrl_ = intrctrl_ = 0;
  attention_ = 0;
  reset_channel_locked();
}

void CbdmaModel::reset_channel_locked() {
  chanctrl_ = dmacount_ = processed_ = 0;
  chainaddr_ = next_ = chancmp_ = cdar_ = last_done_ = 0;
  chanerr_ = chanerr_mask_ = 0;
  state_ = kHalted;  // a reset channel reads HALTED until a chain is started
  chain_set_ = armed_ = false;
}

// ---- registers: accesses of any width are split at register boundaries ----

const CbdmaModel::Reg* CbdmaModel::find_reg(std::uint64_t offset) {
  for (const Reg& r : kRegs)
    if (offset >= r.offset && offset < r.offset + r.size) return &r;
  return nullptr;
}

std::uint64_t CbdmaModel::chansts_locked() const { return (last_done_ & ~0x3full) | state_; }

std::uint64_t CbdmaModel::reg_value_locked(std::uint64_t offset) const {
  switch (offset) {
    case kChanCnt: return 1;
    case kXferCap: return options_.xfercap;
    case kGenCtrl: return genctrl_;
    case kIntrCtrl: return intrctrl_ | (attention_ ? 0x02 : 0);  // INT_STATUS
    case kAttn: return attention_;
    case kVer: return kVersion;
    case kDmaCap: return 0;
    case kChanCtrl: return chanctrl_;
    case kDmaComp: return 0x0002;
    case kChanCmd: return 0;  // every command completes at once
    case kDmaCount: return dmacount_;
    case kChanSts: return chansts_locked();
    case kChainAddr: return chainaddr_;
    case kChanCmp: return chancmp_;
    case kCdar: return cdar_;
    case kChanErr: return chanerr_;
    case kChanErrMask: return chanerr_mask_;
  }
  return 0;
}

std::uint64_t CbdmaModel::reg_read_locked(int, std::uint64_t offset, unsigned width) const {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    const Reg* r = find_reg(offset + i);
    if (!r) continue;
    const std::uint64_t byte = (reg_value_locked(r->offset) >> (8 * (offset + i - r->offset))) & 0xff;
    v |= byte << (8 * i);
  }
  return v;
}

void CbdmaModel::reg_write_locked(int, std::uint64_t offset, unsigned width, std::uint64_t value) {
  for (unsigned i = 0; i < width;) {
    const Reg* r = find_reg(offset + i);
    if (!r) {
      ++i;
      continue;
    }
    // The bytes of this access that land in register r, merged into its current value.
    std::uint64_t merged = reg_value_locked(r->offset), mask = 0;
    unsigned j = i;
    for (; j < width && offset + j < r->offset + r->size; ++j) {
      const unsigned shift = 8 * static_cast<unsigned>(offset + j - r->offset);
      const std::uint64_t byte = (value >> (8 * j)) & 0xff;
      merged = (merged & ~(0xffull << shift)) | (byte << shift);
      mask |= 0xffull << shift;
    }
    on_write_locked(r->offset, merged, mask);
    i = j;
  }
}

void CbdmaModel::on_write_locked(std::uint64_t offset, std::uint64_t value, std::uint64_t written) {
  switch (offset) {
    case kGenCtrl: genctrl_ = static_cast<std::uint8_t>(value); return;
    case kIntrCtrl: intrctrl_ = static_cast<std::uint8_t>(value & (kIntrMasterEnable | kIntrMsixVectorControl)); return;
    case kAttn: attention_ &= ~static_cast<std::uint32_t>(value & written); return;
    case kChanCtrl:
      chanctrl_ = static_cast<std::uint16_t>(value & ~kCtrlIntRearm);
      if (value & kCtrlIntRearm) armed_ = true;
      return;
    case kChanCmd: command_locked(static_cast<std::uint8_t>(value)); return;
    case kDmaCount:
      dmacount_ = static_cast<std::uint16_t>(value);
      maybe_start_locked();
      return;
    case kChainAddr:
      if (state_ == kActive) return;  // the running chain keeps its address
      chainaddr_ = next_ = value;
      processed_ = 0;
      last_done_ = 0;
      chain_set_ = true;
      if (state_ != kHalted) state_ = kDone;  // a new, empty chain
      return;
    case kChanCmp: chancmp_ = value; return;
    case kChanErr: chanerr_ &= ~static_cast<std::uint32_t>(value & written); return;
    case kChanErrMask: chanerr_mask_ = static_cast<std::uint32_t>(value); return;
  }
}

void CbdmaModel::command_locked(std::uint8_t cmd) {
  if (cmd & kCmdReset) {
    reset_channel_locked();
    return;
  }
  if (cmd & kCmdAbort) state_ = kHalted;
  if ((cmd & kCmdSuspend) && (state_ == kActive || state_ == kDone)) state_ = kSuspended;
  if ((cmd & kCmdResume) && state_ == kSuspended) {
    state_ = kDone;
    maybe_start_locked();
  }
}

void CbdmaModel::maybe_start_locked() {
  if (!chain_set_ || chanerr_ || state_ == kSuspended) return;
  if (dmacount_ != processed_) state_ = kActive;
}

// ---- the engine ----

bool CbdmaModel::has_work_locked() const { return state_ == kActive; }

std::uint64_t CbdmaModel::step_locked(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t at = next_;
  if (at % 64) {
    halt_locked(kErrNextDescAlign);
    return 0;
  }
  std::array<std::uint8_t, 64> d{};
  if (!dma_read_locked(at, d)) {
    halt_locked(processed_ == 0 ? kErrChainAddrValue : kErrNextAddr);
    return 0;
  }
  cdar_ = at;
  const std::uint32_t size = u32(&d[0]), ctl = u32(&d[4]);
  const std::uint64_t src = u64(&d[8]), dst = u64(&d[16]), next = u64(&d[24]);
  const std::uint64_t max = options_.xfercap ? 1ull << options_.xfercap : 1ull << 35;
  std::uint64_t moved = 0;
  if ((ctl >> 24) != kOpCopy) return halt_locked(kErrControl), 0;
  if (size == 0 || size > max) return halt_locked(kErrLength), 0;  // null descriptors need a size too
  if (!(ctl & kCtlNull)) {
    auto r = copy_locked(lock, src, dst, size);
    if (r.aborted || state_ != kActive || next_ != at) return 0;  // reset, suspend or freeze meanwhile
    if (!r.ok) return halt_locked(r.fault_on_write ? kErrDestAddr : kErrSrcAddr), 0;
    moved = size;
  }
  ++processed_;
  last_done_ = at;
  next_ = next;
  state_ = processed_ == dmacount_ ? kDone : kActive;
  if (ctl & kCtlComplWrite) write_completion_locked();
  if ((ctl & kCtlIntEn) && state_ != kHalted) interrupt_locked();
  return moved;
}

void CbdmaModel::write_completion_locked() {
  const std::uint64_t sts = chansts_locked();
  std::uint8_t bytes[8];
  std::memcpy(bytes, &sts, 8);
  if (chancmp_ % 64 || !dma_write_locked(chancmp_, bytes)) halt_locked(kErrCompletionAddr);
}

void CbdmaModel::interrupt_locked() {
  if (!armed_ || !(intrctrl_ & (kIntrMasterEnable | kIntrMsixVectorControl))) return;
  armed_ = false;  // one interrupt per re-arm
  attention_ |= 1;
  raise_msix_locked(0);
}

void CbdmaModel::halt_locked(std::uint32_t errors) {
  chanerr_ |= errors;
  state_ = kHalted;
  config().poke32(kCfgChanErrInt, config().peek32(kCfgChanErrInt) | errors);
  if (chanctrl_ & kCtrlErrCompletionEn) {
    const std::uint64_t sts = chansts_locked();
    std::uint8_t bytes[8];
    std::memcpy(bytes, &sts, 8);
    if (chancmp_ % 64 == 0) (void)dma_write_locked(chancmp_, bytes);  // best effort: it may be what failed
  }
  if (chanctrl_ & kCtrlErrIntEn) interrupt_locked();
}

}  // namespace lu::sim::pci
