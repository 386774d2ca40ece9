// simdma: the register interface of lu-test's simulated DMA engine. Shared by the driver
// (vfio/drivers/simdma/simdma.cc) and the device model (sim/pci/sim_dma_device.cc), so the two
// cannot drift. Header-only, no dependencies.
//
// PCI identity: vendor 0x1b36 (Red Hat / QEMU), device 0x7110, which no real device uses:
// lu-test's own fake id. Class 0x080100 (system peripheral, DMA controller).
// BAR0: 4 KiB of 64-bit memory, little-endian registers, 32- or 64-bit accesses as listed.
#pragma once

#include <cstdint>

namespace lu::vfio::simdma {

inline constexpr std::uint16_t kVendorId = 0x1b36;
inline constexpr std::uint16_t kDeviceId = 0x7110;
inline constexpr std::uint32_t kClassCode = 0x080100;
inline constexpr std::uint8_t kRevision = 0x01;
inline constexpr std::uint64_t kBar0Size = 0x1000;

// Register offsets in BAR0.
inline constexpr std::uint64_t kRegId = 0x000;          // u32 RO: kIdValue
inline constexpr std::uint64_t kRegScratch = 0x004;     // u32 RW: reads back what was written (liveness)
inline constexpr std::uint64_t kRegMaxSize = 0x008;     // u64 RO: largest SIZE a job accepts
inline constexpr std::uint64_t kRegMaxCount = 0x010;    // u64 RO: largest COUNT a job accepts
inline constexpr std::uint64_t kRegSrc = 0x018;         // u64 RW: source IOVA
inline constexpr std::uint64_t kRegDst = 0x020;         // u64 RW: destination IOVA
inline constexpr std::uint64_t kRegSize = 0x028;        // u64 RW: bytes per copy
inline constexpr std::uint64_t kRegCount = 0x030;       // u64 RW: copies in the job
inline constexpr std::uint64_t kRegDoorbell = 0x038;    // u32 WO: kDoorbell* commands
inline constexpr std::uint64_t kRegStatus = 0x03c;      // u32 RO: kStatus* bits, error code in bits 8..15
inline constexpr std::uint64_t kRegProgress = 0x040;    // u64 RO: copies of the current job completed
inline constexpr std::uint64_t kRegRate = 0x048;        // u32 RW: copies per second, 0 = as fast as possible
inline constexpr std::uint64_t kRegMsiTrigger = 0x04c;  // u32 WO: raises the MSI-X vector written
inline constexpr std::uint64_t kRegErrorIova = 0x050;   // u64 RO: the IOVA that failed translation
inline constexpr std::uint64_t kRegJobs = 0x058;        // u64 RO: jobs started since reset (a reset shows as 0)

// MSI-X table and PBA live in BAR0 too (the capability points here).
inline constexpr std::uint64_t kMsixTableOffset = 0x800;
inline constexpr std::uint64_t kMsixPbaOffset = 0xc00;
inline constexpr std::uint32_t kMsixVectors = 4;
inline constexpr std::uint64_t kMsixEntrySize = 16;  // addr lo, addr hi, data, vector control (bit 0 = masked)

inline constexpr std::uint32_t kIdValue = 0x5d3a0001;  // "simdma" v1

// DOORBELL: START latches SRC/DST/SIZE/COUNT, zeroes PROGRESS, clears ERROR/DONE and sets BUSY;
// the engine then repeats the copy COUNT times while bus mastering is on (it pauses, BUSY still
// set, while bus mastering is off). START while BUSY is refused with kErrorBusy and the running
// job continues. ABORT stops the job (BUSY cleared, kErrorAborted).
inline constexpr std::uint32_t kDoorbellStart = 1;
inline constexpr std::uint32_t kDoorbellAbort = 2;

inline constexpr std::uint32_t kStatusBusy = 1u << 0;
inline constexpr std::uint32_t kStatusError = 1u << 1;
inline constexpr std::uint32_t kStatusDone = 1u << 2;
inline constexpr std::uint32_t kStatusErrorShift = 8;
inline constexpr std::uint32_t kStatusErrorMask = 0xffu << kStatusErrorShift;

inline constexpr std::uint32_t kErrorNone = 0;
inline constexpr std::uint32_t kErrorTranslation = 1;  // an IOVA of the job is not mapped (see ERROR_IOVA)
inline constexpr std::uint32_t kErrorBadJob = 2;       // SIZE/COUNT zero or above the maxima, or overlap
inline constexpr std::uint32_t kErrorBusy = 3;         // START while a job runs
inline constexpr std::uint32_t kErrorAborted = 4;      // ABORT

inline constexpr std::uint64_t kMaxSize = 1ull << 30;   // 1 GiB per copy
inline constexpr std::uint64_t kMaxCount = 1ull << 40;  // effectively "run for hours"

constexpr std::uint32_t status_error(std::uint32_t status) {
  return (status & kStatusErrorMask) >> kStatusErrorShift;
}

}  // namespace lu::vfio::simdma
