// Intel DSA facts the dsa driver uses (from drivers/dma/idxd/registers.h and
// include/uapi/linux/idxd.h in the 7.3 tree). Private to vfio/drivers/dsa/.
#pragma once

#include <cstdint>

namespace lu::vfio::dsa {

inline constexpr std::uint16_t kVendorIntel = 0x8086;
inline constexpr std::uint16_t kDeviceIds[] = {0x0b25 /* SPR */, 0x11fb /* GNR-D */, 0x1212 /* DMR */};

inline constexpr int kMmioBar = 0;    // registers
inline constexpr int kPortalBar = 2;  // work-queue portals, 4 pages per WQ; page 0 = unlimited MSI-X portal
inline constexpr std::uint64_t kPortalStride = 4 * 4096;

// BAR0 registers.
inline constexpr std::uint64_t kGenCap = 0x10;       // u64
inline constexpr std::uint64_t kWqCap = 0x20;        // u64
inline constexpr std::uint64_t kGrpCap = 0x30;       // u64
inline constexpr std::uint64_t kEngCap = 0x38;       // u64
inline constexpr std::uint64_t kTableOffset = 0x60;  // u64: grpcfg 0..15, wqcfg 16..31 (units of 0x100)
inline constexpr std::uint64_t kTableUnit = 0x100;
inline constexpr std::uint64_t kGenCtrl = 0x88;      // u32: bit 0 software-error interrupt enable
inline constexpr std::uint64_t kGenSts = 0x90;       // u32: state in bits 0..1
inline constexpr std::uint64_t kCmd = 0xa0;          // u32: operand 0..19, command 20..24
inline constexpr std::uint64_t kCmdSts = 0xa8;       // u32: error 0..7, active bit 31
inline constexpr std::uint64_t kCmdCap = 0xb0;       // u32: bit per supported command
inline constexpr std::uint64_t kSwErr = 0xc0;        // u64 x 4

// GENCAP fields.
inline constexpr unsigned kGenCapCmdCapBit = 4;
inline constexpr unsigned kGenCapMaxXferShift = 16;  // 5 bits
inline constexpr unsigned kGenCapMaxBatchShift = 21;  // 4 bits
// WQCAP fields.
inline constexpr unsigned kWqCapNumWqsShift = 16;     // 8 bits; total_wq_size in bits 0..15
inline constexpr unsigned kWqCapCfgSizeShift = 24;    // 4 bits: WQCFG is 1 << (n + 5) bytes per WQ
inline constexpr unsigned kWqCapDedicatedBit = 49;
inline constexpr unsigned kWqCapAtsBit = 50;

inline constexpr std::uint32_t kGenStsEnabled = 1;
inline constexpr std::uint32_t kCmdStsActive = 1u << 31;

enum Command : std::uint32_t {
  kCmdEnableDevice = 1,
  kCmdResetDevice = 5,
  kCmdEnableWq = 6,
  kCmdRequestIntHandle = 13,
};

// WQCFG dwords (64 bytes per WQ here).
inline constexpr std::uint64_t kWqCfgSize = 0;      // dword 0: wq_size in bits 0..15
inline constexpr std::uint64_t kWqCfgMode = 8;      // dword 2: mode bit 0 (1 = dedicated), ats_disable bit 2, priority 4..7
inline constexpr std::uint64_t kWqCfgShifts = 12;   // dword 3: max_xfer_shift 0..4, max_batch_shift 5..8
inline constexpr std::uint64_t kWqCfgState = 24;    // dword 6: wq_state in bits 30..31
inline constexpr std::uint64_t kWqCfgOpConfig = 32;  // 256 bits
// GRPCFG: 64 bytes per group: wqs bitmap (4 x u64), engines bitmap at +32.
inline constexpr std::uint64_t kGrpCfgEngines = 32;

// Descriptors and completion records.
enum Opcode : std::uint32_t { kOpBatch = 1, kOpMemmove = 3 };
inline constexpr std::uint32_t kFlagCrav = 0x04, kFlagRcr = 0x08, kFlagRci = 0x10;
inline constexpr std::uint32_t kDescPriv = 1u << 31;

struct HwDesc {
  std::uint32_t pasid_priv;    // pasid 0..19, priv bit 31
  std::uint32_t flags_opcode;  // flags 0..23, opcode 24..31
  std::uint64_t completion_addr;
  std::uint64_t src;           // or the batch's descriptor list
  std::uint64_t dst;
  std::uint32_t size;          // or the batch's descriptor count
  std::uint16_t int_handle;
  std::uint16_t rsvd;
  std::uint8_t op_specific[24];
};
static_assert(sizeof(HwDesc) == 64);

struct CompletionRecord {
  std::uint8_t status;
  std::uint8_t result;
  std::uint8_t fault_info;
  std::uint8_t rsvd;
  std::uint32_t completed;  // bytes, or descriptors of a batch
  std::uint64_t fault_addr;
  std::uint8_t rest[16];
};
static_assert(sizeof(CompletionRecord) == 32);

inline constexpr std::uint8_t kCompSuccess = 0x01;
inline constexpr std::uint8_t kCompStatusMask = 0x7f;

}  // namespace lu::vfio::dsa
