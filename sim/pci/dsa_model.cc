#include "sim/pci/dsa_model.h"

#include <cerrno>
#include <cstring>

namespace lu::sim::pci {
namespace {

// BAR0 layout (idxd registers.h); the tables sit where TABLE_OFFSET says (units of 0x100).
constexpr std::uint64_t kBar0Size = 0x10000, kPortalBlock = 0x4000;
constexpr std::uint64_t kVersion = 0x00, kGenCap = 0x10, kWqCap = 0x20, kGrpCap = 0x30, kEngCap = 0x38,
                        kOpCap = 0x40, kTableOffset = 0x60, kGenCfg = 0x80, kGenCtrl = 0x88, kGenSts = 0x90,
                        kIntCause = 0x98, kCmd = 0xa0, kCmdSts = 0xa8, kCmdCap = 0xb0, kSwErr = 0xc0;
constexpr std::uint64_t kGrpCfg = 0x400, kWqCfg = 0x800, kMsixPerm = 0xc00;
constexpr std::uint64_t kWqCfgBytes = 64;  // WQCAP.wqcfg_size = 1: 1 << (1 + 5)
constexpr std::uint32_t kMsixTable = 0x2000, kMsixPba = 0x3000;

constexpr std::uint64_t kOps = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3);  // NOOP BATCH DRAIN MEMMOVE
enum Opcode : unsigned { kNoop = 0, kBatchOp = 1, kDrain = 2, kMemmove = 3 };
constexpr std::uint32_t kFlagCrav = 0x04, kFlagRcr = 0x08, kFlagRci = 0x10;
enum CompStatus : std::uint8_t {
  kSuccess = 0x01, kPageFaultNoBof = 0x03, kBatchFail = 0x05, kBatchPageFault = 0x06, kBadOpcode = 0x10,
  kXferErange = 0x13, kDescCntErange = 0x14, kOverlap = 0x16, kDescListAlign = 0x18, kIntHandleInval = 0x19,
  kCraXlat = 0x1a, kCraAlign = 0x1b, kWqNotReady = 0x20,  // 0x20: the model's code for a dropped submission
};
enum Cmd : unsigned {
  kEnableDevice = 1, kDisableDevice, kDrainAll, kAbortAll, kResetDevice, kEnableWq, kDisableWq, kDrainWq,
  kAbortWq, kResetWq,
};
constexpr std::uint32_t kCmdCapBits = 0x7fe;  // commands 1..10; no interrupt-handle requests
constexpr std::uint32_t kCmdStsActive = 1u << 31;
constexpr std::uint32_t kIntCauseErr = 0x01, kIntCauseCmd = 0x02;
enum DeviceState : std::uint32_t { kDisabled = 0, kEnabled = 1 };

std::uint32_t u32(const std::uint8_t* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
std::uint64_t u64(const std::uint8_t* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }
unsigned opcode_of(const std::array<std::uint8_t, 64>& d) { return d[7]; }
std::uint32_t flags_of(const std::array<std::uint8_t, 64>& d) { return u32(&d[4]) & 0xffffff; }

ConfigIdentity identity(const DsaOptions& o) {
  return {.vendor = 0x8086, .device = o.device_id, .class_code = 0x088000, .revision = 0x01,
          .subsystem_vendor = 0x8086, .subsystem_id = 0x0000,
          .bar_sizes = {kBar0Size, 0, o.num_wqs * kPortalBlock, 0, 0, 0},
          .msix_vectors = o.num_wqs + 1, .msix_bar = 0, .msix_table_offset = kMsixTable, .msix_pba_offset = kMsixPba};
}

}  // namespace

DsaModel::DsaModel(DsaOptions options)
    : EngineModel(options.engine, identity(options)), options_(options), groups_(options.num_groups),
      wqs_(options.num_wqs), msix_perm_(options.num_wqs + 1) {
  reset_registers_locked();
  start_engine();
}

DsaModel::~DsaModel() { stop_engine(); }

void DsaModel::reset_registers_locked() {
  gencfg_ = genctrl_ = intcause_ = cmd_ = cmdsts_ = 0;
  state_ = kDisabled;
  swerr_.fill(0);
  for (auto& g : groups_) g.fill(0);
  for (auto& wq : wqs_) {
    wq.cfg.fill(0);
    wq.cfg[8] = static_cast<std::uint32_t>(kOps);  // op_config: every supported operation
    wq.enabled = false;
    wq.queue.clear();
  }
  std::fill(msix_perm_.begin(), msix_perm_.end(), 0);
  batch_.reset();
  drain_pending_ = false;
}

// ---- registers ----

std::uint64_t DsaModel::qword_locked(std::uint64_t offset) const {
  const auto& o = options_;
  switch (offset) {
    case kVersion: return 0x100;
    case kGenCap:  // block_on_fault, cmd_cap, max_xfer_shift, max_batch_shift, config_en
      return 1u | (1u << 4) | (std::uint64_t{o.max_xfer_shift} << 16) | (std::uint64_t{o.max_batch_shift} << 21) | (1ull << 31);
    case kWqCap:  // total size, number, wqcfg_size 1; dedicated mode, priority, op_config
      return o.total_wq_size | (std::uint64_t{o.num_wqs} << 16) | (1ull << 24) | (1ull << 49) | (1ull << 51) | (1ull << 54);
    case kGrpCap: return o.num_groups | (96u << 8);
    case kEngCap: return o.num_engines;
    case kOpCap: return kOps;
    case kTableOffset: return (kGrpCfg / 0x100) | ((kWqCfg / 0x100) << 16) | ((kMsixPerm / 0x100) << 32);
    case kGenCfg: return gencfg_;
    case kGenCtrl: return genctrl_;
    case kGenSts: return state_;
    case kIntCause: return intcause_;
    case kCmd: return cmd_;
    case kCmdSts: return cmdsts_;
    case kCmdCap: return kCmdCapBits;
  }
  if (offset >= kSwErr && offset < kSwErr + 32) return swerr_[(offset - kSwErr) / 8];
  if (offset >= kGrpCfg && offset < kGrpCfg + groups_.size() * 64) return groups_[(offset - kGrpCfg) / 64][(offset % 64) / 8];
  if (offset >= kMsixPerm && offset < kMsixPerm + msix_perm_.size() * 8) return msix_perm_[(offset - kMsixPerm) / 8];
  return 0;
}

std::uint32_t DsaModel::read32_locked(std::uint64_t offset) const {
  if (offset >= kWqCfg && offset < kWqCfg + wqs_.size() * kWqCfgBytes) {
    const Wq& wq = wqs_[(offset - kWqCfg) / kWqCfgBytes];
    const std::size_t word = (offset % kWqCfgBytes) / 4;
    if (word != 6) return wq.cfg[word];
    // occupancy (0..15), mode_support (29: dedicated), wq_state (30..31)
    return static_cast<std::uint32_t>(wq.queue.size()) | (1u << 29) | (wq.enabled ? 1u << 30 : 0u);
  }
  const std::uint64_t q = qword_locked(offset & ~7ull);
  return static_cast<std::uint32_t>(offset & 4 ? q >> 32 : q);
}

std::uint64_t DsaModel::reg_read_locked(int bar, std::uint64_t offset, unsigned width) const {
  if (bar != 0) return ~0ull;  // portals read as all ones
  std::uint64_t v = read32_locked(offset);
  if (width == 8) v |= std::uint64_t{read32_locked(offset + 4)} << 32;
  return v;
}

void DsaModel::reg_write_locked(int bar, std::uint64_t offset, unsigned width, std::uint64_t value) {
  if (bar != 0) return;  // a portal takes only 64-byte submissions
  write32_locked(offset, static_cast<std::uint32_t>(value));
  if (width == 8) write32_locked(offset + 4, static_cast<std::uint32_t>(value >> 32));
}

void DsaModel::write32_locked(std::uint64_t offset, std::uint32_t value) {
  auto set_half = [&](std::uint64_t& q) {
    q = offset & 4 ? (q & 0xffffffffull) | (std::uint64_t{value} << 32) : (q & ~0xffffffffull) | value;
  };
  if (offset == kGenCfg) gencfg_ = value;
  else if (offset == kGenCtrl) genctrl_ = value & 0x7;
  else if (offset == kIntCause) intcause_ &= ~value;
  else if (offset == kCmd) command_locked(value);
  else if (offset == kSwErr) swerr_[0] &= ~(std::uint64_t{value} & 0x3);  // SWERR_ACK: valid, overflow
  else if (offset >= kGrpCfg && offset < kGrpCfg + groups_.size() * 64) {
    if (state_ == kDisabled) set_half(groups_[(offset - kGrpCfg) / 64][(offset % 64) / 8]);
  } else if (offset >= kWqCfg && offset < kWqCfg + wqs_.size() * kWqCfgBytes) {
    Wq& wq = wqs_[(offset - kWqCfg) / kWqCfgBytes];
    const std::size_t word = (offset % kWqCfgBytes) / 4;
    if (!wq.enabled && word != 6) wq.cfg[word] = value;  // configuration is locked while enabled
  } else if (offset >= kMsixPerm && offset < kMsixPerm + msix_perm_.size() * 8) {
    set_half(msix_perm_[(offset - kMsixPerm) / 8]);
  }
}

// ---- commands ----

void DsaModel::command_locked(std::uint32_t value) {
  cmd_ = value;
  const unsigned cmd = (value >> 20) & 0x1f;
  const std::uint8_t err = command_error_locked(cmd, value & 0xfffff);
  cmdsts_ = err;
  if ((cmd == kDrainAll || cmd == kDrainWq) && err == 0 && has_work_locked()) {
    cmdsts_ |= kCmdStsActive;  // completes when the queues are empty (step_locked)
    drain_pending_ = true;
  }
  if (value & (1u << 31)) {  // int_req
    intcause_ |= kIntCauseCmd;
    raise_msix_locked(0);
  }
}

std::uint8_t DsaModel::command_error_locked(unsigned cmd, std::uint32_t operand) {
  const bool wq_cmd = cmd >= kEnableWq && cmd <= kResetWq;
  if (wq_cmd && operand >= wqs_.size()) return 0x02;  // INVAL_WQIDX
  switch (cmd) {
    case kEnableDevice:
      if (auto e = enable_device_error_locked()) return e;
      state_ = kEnabled;
      return 0;
    case kDisableDevice:
      if (state_ != kEnabled) return 0x31;  // DIS_DEV_EN
      drop_work_locked();
      for (auto& wq : wqs_) wq.enabled = false;
      state_ = kDisabled;
      return 0;
    case kDrainAll: return 0;
    case kAbortAll: drop_work_locked(); return 0;
    case kResetDevice: reset_registers_locked(); return 0;
    case kEnableWq:
      if (auto e = enable_wq_error_locked(operand)) return e;
      wqs_[operand].enabled = true;
      return 0;
    case kDisableWq:
    case kResetWq:
      if (!wqs_[operand].enabled && cmd == kDisableWq) return 0x32;  // DEV_NOT_EN: the WQ is not enabled
      wqs_[operand].enabled = false;
      wqs_[operand].queue.clear();
      if (batch_ && batch_->wq == operand) batch_.reset();
      if (cmd == kResetWq) {
        wqs_[operand].cfg.fill(0);
        wqs_[operand].cfg[8] = static_cast<std::uint32_t>(kOps);
      }
      return 0;
    case kDrainWq: return 0;
    case kAbortWq:
      wqs_[operand].queue.clear();
      if (batch_ && batch_->wq == operand) batch_.reset();
      return 0;
  }
  return 0x01;  // INVAL_CMD
}

std::uint8_t DsaModel::enable_device_error_locked() const {
  if (state_ == kEnabled) return 0x10;          // DEV_ENABLED
  if (!config().bus_master()) return 0x12;      // BUSMASTER_EN
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < wqs_.size(); ++i) {
    const std::uint32_t size = wqs_[i].cfg[0] & 0xffff;
    total += size;
    if (!size) continue;
    bool grouped = false;
    for (const auto& g : groups_) {
      if (!(g[i / 64] & (1ull << (i % 64)))) continue;
      grouped = true;
      if (!(g[4] & ((1ull << options_.num_engines) - 1))) return 0x16;  // GRP_CONFIG2: a group without engines
    }
    if (!grouped) return 0x15;  // GRP_CONFIG: a sized WQ in no group
  }
  if (total > options_.total_wq_size) return 0x14;  // WQ_SIZE_ERANGE
  return 0;
}

std::uint8_t DsaModel::enable_wq_error_locked(std::uint32_t index) const {
  const Wq& wq = wqs_[index];
  if (state_ != kEnabled) return 0x20;              // DEV_NOTEN
  if (wq.enabled) return 0x21;                      // WQ_ENABLED
  if (!(wq.cfg[0] & 0xffff)) return 0x22;           // WQ_SIZE
  if (!(wq.cfg[2] & 1)) return 0x24;                // WQ_MODE: shared mode is not offered
  if (((wq.cfg[3] >> 5) & 0xf) > options_.max_batch_shift) return 0x27;  // MAX_BATCH_SIZE
  if ((wq.cfg[3] & 0x1f) > options_.max_xfer_shift) return 0x28;         // MAX_XFER_SIZE
  return 0;
}

void DsaModel::drop_work_locked() {
  for (auto& wq : wqs_) wq.queue.clear();
  batch_.reset();
}

void DsaModel::software_error_locked(std::uint8_t error, const Desc* desc, unsigned wq, std::uint64_t fault_addr) {
  if (swerr_[0] & 1) {
    swerr_[0] |= 2;  // overflow: an earlier error is still unacknowledged
  } else {
    swerr_[0] = 1 | (desc ? 4u : 0u) | 8u | (std::uint64_t{error} << 8) | (std::uint64_t{wq} << 16) |
                (desc ? std::uint64_t{opcode_of(*desc)} << 32 : 0);
    swerr_[1] = 0;
    swerr_[2] = fault_addr;
  }
  intcause_ |= kIntCauseErr;
  if (genctrl_ & 1) raise_msix_locked(0);  // softerr_int_en
}

// ---- submission and the engine ----

Status DsaModel::submit_locked(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> data) {
  if (bar != 2) return EngineModel::submit_locked(bar, offset, data);
  const unsigned index = static_cast<unsigned>(offset / kPortalBlock);
  Wq& wq = wqs_[index];
  Desc d;
  std::memcpy(d.data(), data.data(), 64);
  // A posted write: the submitter learns nothing; a dropped descriptor shows only in SWERR.
  if (state_ != kEnabled || !wq.enabled || wq.queue.size() >= (wq.cfg[0] & 0xffff))
    software_error_locked(kWqNotReady, &d, index, 0);
  else
    wq.queue.push_back(d);
  return {};
}

bool DsaModel::has_work_locked() const {
  if (batch_) return true;
  for (const auto& wq : wqs_)
    if (!wq.queue.empty()) return true;
  return false;
}

bool DsaModel::op_allowed(const Wq& wq, unsigned opcode) const {
  const std::uint64_t allowed = wq.cfg[8] | (std::uint64_t{wq.cfg[9]} << 32);
  return opcode < 64 && (kOps & allowed & (1ull << opcode));
}

std::uint64_t DsaModel::step_locked(std::unique_lock<std::mutex>& lock) {
  std::uint64_t moved = 0;
  if (batch_) {
    Batch& b = *batch_;
    const Desc sub = b.list[b.next++];
    const unsigned wq = b.wq;
    Outcome o = execute_locked(lock, sub, wq, true);
    if (!batch_) return o.moved;  // reset or aborted meanwhile
    if (o.status == 0) {
      --batch_->next;  // a freeze interrupted it: run it again
      return 0;
    }
    moved = o.moved;
    if (o.status == kSuccess) ++batch_->completed;
    else batch_->failed = true;
    if (o.status != kSuccess || (flags_of(sub) & kFlagRcr)) complete_locked(sub, wq, o);
    if (batch_->next == batch_->list.size()) {
      Outcome done{.status = batch_->failed ? kBatchFail : kSuccess, .descs = batch_->completed};
      const Desc bd = batch_->desc;
      batch_.reset();
      complete_locked(bd, wq, done);
    }
  } else {
    for (unsigned i = 0; i < wqs_.size(); ++i) {
      if (wqs_[i].queue.empty()) continue;
      const Desc d = wqs_[i].queue.front();
      wqs_[i].queue.pop_front();
      if (opcode_of(d) == kBatchOp && op_allowed(wqs_[i], kBatchOp)) {
        if (auto failed = start_batch_locked(d, i)) complete_locked(d, i, *failed);
      } else {
        Outcome o = execute_locked(lock, d, i, false);
        if (o.status == 0 && wqs_[i].enabled) wqs_[i].queue.push_front(d);  // interrupted by a freeze: retry
        else if (o.status != 0) complete_locked(d, i, o);
        moved = o.moved;
      }
      break;
    }
  }
  if (drain_pending_ && !has_work_locked()) {
    drain_pending_ = false;
    cmdsts_ &= ~kCmdStsActive;
  }
  return moved;
}

std::optional<DsaModel::Outcome> DsaModel::start_batch_locked(const Desc& d, unsigned wq) {
  const std::uint64_t list = u64(&d[16]);
  const std::uint32_t count = u32(&d[32]);
  const unsigned max_shift = (wqs_[wq].cfg[3] >> 5) & 0xf;
  if (count < 2 || count > (1u << max_shift)) return Outcome{.status = kDescCntErange};
  if (list % 64) return Outcome{.status = kDescListAlign};
  Batch b{.desc = d, .wq = wq, .list = std::vector<Desc>(count)};
  for (std::uint32_t i = 0; i < count; ++i)
    if (!dma_read_locked(list + 64ull * i, b.list[i])) return Outcome{.status = kBatchPageFault, .fault_addr = list + 64ull * i};
  batch_ = std::move(b);
  return std::nullopt;
}

DsaModel::Outcome DsaModel::execute_locked(std::unique_lock<std::mutex>& lock, const Desc& d, unsigned wq, bool in_batch) {
  const unsigned op = opcode_of(d);
  if (!op_allowed(wqs_[wq], op) || (in_batch && op == kBatchOp)) return {.status = kBadOpcode};
  if ((flags_of(d) & kFlagRci) && u32(&d[36]) % 0x10000 >= msix_vectors()) return {.status = kIntHandleInval};
  if (op != kMemmove) return {.status = kSuccess};  // NOOP, and DRAIN: the pipeline is in order
  const std::uint64_t src = u64(&d[16]), dst = u64(&d[24]);
  const std::uint32_t size = u32(&d[32]);
  if (size == 0 || size > (1ull << (wqs_[wq].cfg[3] & 0x1f))) return {.status = kXferErange};
  if (src < dst + size && dst < src + size) return {.status = kOverlap};  // GENCAP.overlap_copy = 0
  auto r = copy_locked(lock, src, dst, size);
  if (r.aborted) return {};
  if (!r.ok) return {.status = kPageFaultNoBof, .fault_addr = r.fault_iova, .fault_write = r.fault_on_write};
  return {.status = kSuccess, .moved = size};
}

// The completion record (32 bytes, 32-byte aligned): status, result, fault_info, reserved,
// bytes/descs completed, fault address. Written on RCR, and on a failure whenever CRAV is set.
void DsaModel::complete_locked(const Desc& d, unsigned wq, const Outcome& o) {
  const std::uint32_t flags = flags_of(d);
  const std::uint64_t record = u64(&d[8]);
  const bool want = (flags & kFlagCrav) && ((flags & kFlagRcr) || o.status != kSuccess);
  if (want) {
    std::array<std::uint8_t, 32> cr{};
    cr[0] = o.status;
    cr[2] = o.fault_write ? 1 : 0;
    std::memcpy(&cr[4], &o.descs, 4);
    std::memcpy(&cr[8], &o.fault_addr, 8);
    if (record % 32) software_error_locked(kCraAlign, &d, wq, record);
    else if (!dma_write_locked(record, cr)) software_error_locked(kCraXlat, &d, wq, record);
  }
  if ((flags & kFlagRci) && o.status != kIntHandleInval) raise_msix_locked(u32(&d[36]) & 0xffff);
}

}  // namespace lu::sim::pci
