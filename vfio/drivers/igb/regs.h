// Intel 82576 (igb) facts the igb driver uses, from the 7.3 tree's
// tools/testing/selftests/vfio/lib/drivers/igb/{e1000_regs,e1000_defines,e1000_82575}.h and
// include/uapi/linux/mii.h. Private to vfio/drivers/igb/.
#pragma once

#include <cstdint>

namespace lu::vfio::igb {

inline constexpr std::uint16_t kVendorIntel = 0x8086;
inline constexpr std::uint16_t kDevice82576 = 0x10c9;
inline constexpr int kBar = 0;

// Registers (32-bit).
inline constexpr std::uint64_t kCtrl = 0x00000, kStatus = 0x00008, kEecd = 0x00010, kCtrlExt = 0x00018,
                               kMdic = 0x00020, kImc = 0x000d8, kRctl = 0x00100, kTctl = 0x00400,
                               kGpie = 0x01514, kEics = 0x01520, kEims = 0x01524, kEimc = 0x01528,
                               kEiac = 0x0152c, kEiam = 0x01530, kEicr = 0x01580, kIvar0 = 0x01700,
                               kGcr = 0x05b00;
// Queue 0's ring registers.
inline constexpr std::uint64_t kRdbal = 0x02800, kRdbah = 0x02804, kRdlen = 0x02808, kSrrctl = 0x0280c,
                               kRdh = 0x02810, kRdt = 0x02818, kRxdctl = 0x02828;
inline constexpr std::uint64_t kTdbal = 0x03800, kTdbah = 0x03804, kTdlen = 0x03808, kTdh = 0x03810,
                               kTdt = 0x03818, kTxdctl = 0x03828;

inline constexpr std::uint32_t kCtrlFd = 0x00000001, kCtrlSlu = 0x00000040, kCtrlSpdSel = 0x00000300,
                               kCtrlSpd1000 = 0x00000200, kCtrlFrcSpd = 0x00000800, kCtrlFrcDpx = 0x00001000,
                               kCtrlRst = 0x04000000;
inline constexpr std::uint32_t kCtrlExtDrvLoad = 0x10000000, kCtrlExtLinkModeMask = 0x00c00000;
inline constexpr std::uint32_t kEecdAutoRd = 0x00000200;
inline constexpr std::uint32_t kMdicRegShift = 16, kMdicPhyShift = 21, kMdicOpWrite = 0x04000000,
                               kMdicReady = 0x10000000, kMdicError = 0x40000000;
inline constexpr std::uint32_t kGcrCmplTmoutResend = 0x00010000;
inline constexpr std::uint32_t kQueueEnable = 0x02000000;  // TXDCTL/RXDCTL
inline constexpr std::uint32_t kSrrctlDescTypeAdvOneBuf = 0x02000000;
inline constexpr std::uint32_t kRctlEn = 0x00000002, kRctlUpe = 0x00000008, kRctlMpe = 0x00000010,
                               kRctlLbmMac = 0x00000040, kRctlBam = 0x00008000, kRctlSecrc = 0x04000000;
inline constexpr std::uint32_t kTctlEn = 0x00000002, kTctlPsp = 0x00000008;
inline constexpr std::uint32_t kGpieMsixMode = 0x00000010, kGpieEiame = 0x40000000;
inline constexpr std::uint32_t kIvarValid = 0x80;

// PHY registers over MDIO (mii.h).
inline constexpr std::uint32_t kMiiBmcr = 0x00;
inline constexpr std::uint16_t kBmcrSpeed1000 = 0x0040, kBmcrFullDuplex = 0x0100, kBmcrAnRestart = 0x0200,
                               kBmcrAnEnable = 0x1000, kBmcrLoopback = 0x4000;

// Advanced descriptors (16 bytes each).
struct TxDesc {
  std::uint64_t buffer_addr;
  std::uint32_t cmd_type_len;   // length 0..15 | DTYP | DCMD
  std::uint32_t olinfo_status;  // PAYLEN << 14
};
struct RxDesc {
  std::uint64_t pkt_addr;  // read format; written back as pkt_info, hdr_info, rss
  std::uint64_t hdr_addr;  // written back as status_error (bit 0: descriptor done), length, vlan
};
static_assert(sizeof(TxDesc) == 16 && sizeof(RxDesc) == 16);
inline constexpr std::uint32_t kTxdDtypData = 0x00300000, kTxdDcmdEop = 0x01000000, kTxdDcmdIfcs = 0x02000000,
                               kTxdDcmdDext = 0x20000000, kTxdPaylenShift = 14;
inline constexpr std::uint32_t kRxdStatusDd = 0x1;
inline constexpr std::uint64_t kRxdStatusOffset = 8;  // status_error within a written-back descriptor

inline constexpr std::uint64_t kMinFrame = 60;    // Ethernet minimum payload
inline constexpr std::uint64_t kMaxChunk = 1024;  // what QEMU's igb and the selftest move per descriptor
inline constexpr std::uint32_t kMaxRing = 4096;

}  // namespace lu::vfio::igb
