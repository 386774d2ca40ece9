// The device scenario's memory layout and names, shared by its pre and post halves.
//
// One memfd per device, mapped at kIova: source [0, S), destination [S, 2S), then the driver's
// region (descriptors, completion records). S is --dma-size (default 64 KiB). The job started
// before the kexec copies min(S, max_memcpy_size) bytes, repeated, paced where the device allows
// so that it spans the blackout; the post stage checks it progressed, lets it finish at full
// speed and verifies the destination, then runs one fresh memcpy.
#pragma once

#include <cstdint>
#include <string>

#include "state/records.h"

namespace lu::stages::device {

inline constexpr std::uint64_t kDefaultCopySize = 64 * 1024;
inline constexpr std::uint64_t kMaxCopySize = 1ull << 30;
inline constexpr std::uint64_t kCopies = 20000;     // copies in the job
inline constexpr std::uint32_t kPace = 200;         // copies per second before the kexec: ~100 s of work
inline constexpr std::uint64_t kMinRegion = 4096;
inline constexpr std::uint64_t kIova = 0x01000000;  // 16 MiB: below every driver's mask (edu: 28 bits)
inline constexpr std::uint64_t kMemfdToken = 1, kDeviceToken = 2;

inline std::uint64_t page_round(std::uint64_t n) { return (n + 4095) & ~std::uint64_t(4095); }

// The bytes the post stage may trust from a state: never beyond what it maps itself.
struct Layout {
  std::uint64_t copy_region = kDefaultCopySize;  // S
  std::uint64_t region_size = kMinRegion;
  std::uint64_t total() const { return page_round(2 * copy_region + region_size); }
  std::uint64_t src() const { return kIova; }
  std::uint64_t dst() const { return kIova + copy_region; }
  std::uint64_t region() const { return kIova + 2 * copy_region; }
  // A crafted state must not make the post stage read past what it maps: out-of-range sizes
  // fall back to the defaults (and then the data simply will not verify).
  static Layout of(const state::DeviceRecord& r) {
    Layout l;
    if (r.dma_size >= 4096 && r.dma_size <= kMaxCopySize && r.dma_size % 4096 == 0) l.copy_region = r.dma_size;
    if (r.region_size >= kMinRegion && r.region_size <= (1u << 20) && r.region_size % 4096 == 0)
      l.region_size = r.region_size;
    return l;
  }
};

// "device.bus-master@0000:00:04.0": every device's checks carry its BDF, stable across runs.
inline std::string check_name(const std::string& check, const std::string& bdf) { return check + "@" + bdf; }

}  // namespace lu::stages::device
