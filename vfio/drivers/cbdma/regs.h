// Intel CBDMA (ioat v3.x) facts the cbdma driver uses (from drivers/dma/ioat/registers.h and
// hw.h in the 7.3 tree). Private to vfio/drivers/cbdma/.
#pragma once

#include <cstdint>

namespace lu::vfio::cbdma {

inline constexpr std::uint16_t kVendorIntel = 0x8086;
inline constexpr std::uint16_t kDeviceSkx = 0x2021;

inline constexpr int kBar = 0;
// Global registers (8-bit unless noted).
inline constexpr std::uint64_t kXferCap = 0x01;   // log2 of the largest transfer; 0 = 32 GiB
inline constexpr std::uint64_t kIntrCtrl = 0x03;
inline constexpr std::uint8_t kIntrMsixVectorControl = 0x08;
inline constexpr std::uint64_t kVersion = 0x08;
inline constexpr std::uint8_t kVersion32 = 0x32, kVersion33 = 0x33;

// Channel 0's registers follow the 0x80 bytes of globals.
inline constexpr std::uint64_t kChannel = 0x80;
inline constexpr std::uint64_t kChanCtrl = kChannel + 0x00;   // u16
inline constexpr std::uint64_t kChanCmd = kChannel + 0x04;    // u8
inline constexpr std::uint64_t kDmaCount = kChannel + 0x06;   // u16: descriptors appended (free running)
inline constexpr std::uint64_t kChanSts = kChannel + 0x08;    // u64: completed descriptor | status
inline constexpr std::uint64_t kChainAddr = kChannel + 0x10;  // u64
inline constexpr std::uint64_t kChanCmp = kChannel + 0x18;    // u64: where CHANSTS is written
inline constexpr std::uint64_t kChanErr = kChannel + 0x28;    // u32, write 1 to clear

inline constexpr std::uint16_t kCtrlIntRearm = 0x0001;
inline constexpr std::uint16_t kCtrlErrCompletionEn = 0x0004;
inline constexpr std::uint16_t kCtrlAnyErrAbortEn = 0x0008;
inline constexpr std::uint8_t kCmdReset = 0x20;
inline constexpr std::uint8_t kCmdSuspend = 0x04;

inline constexpr std::uint64_t kStsStatusMask = 0x7;
inline constexpr std::uint64_t kStsAddressMask = ~0x3full;
enum ChanStatus : std::uint64_t { kActive = 0, kDone = 1, kSuspended = 2, kHalted = 3 };

// Config space: channel errors as seen by PCI, write 1 to clear.
inline constexpr std::uint32_t kCfgChanErrInt = 0x180;
inline constexpr std::uint32_t kCfgDmaUncErrSts = 0x148;

struct Descriptor {
  std::uint32_t size;
  std::uint32_t ctl;  // int_en bit 0, compl_write bit 3, null bit 5, op in bits 24..31 (0 = copy)
  std::uint64_t src;
  std::uint64_t dst;
  std::uint64_t next;
  std::uint64_t rsvd[4];
};
static_assert(sizeof(Descriptor) == 64);
inline constexpr std::uint32_t kCtlIntEn = 1u << 0;
inline constexpr std::uint32_t kCtlComplWrite = 1u << 3;

}  // namespace lu::vfio::cbdma
