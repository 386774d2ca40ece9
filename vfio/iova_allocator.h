// Hands out IOVAs inside the ranges the IOMMU reported and below a device's DMA mask.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "base/result.h"

namespace lu::vfio {

struct IovaRange {
  std::uint64_t start = 0;
  std::uint64_t last = 0;  // inclusive, as both kernel interfaces report it
  friend bool operator==(const IovaRange&, const IovaRange&) = default;
};

class IovaAllocator {
 public:
  // `ranges`: what IOMMU_IOAS_IOVA_RANGES or the type1 IOVA-range capability reported.
  // `dma_mask_bits`: the device can address IOVAs below 2^bits (edu: 28; most: 64).
  // `min_alignment`: the IOMMU's page size or the reported out_iova_alignment (>= 4096).
  // IOVA 0 is never handed out: several devices treat a zero address as "unset".
  IovaAllocator(std::vector<IovaRange> ranges, unsigned dma_mask_bits, std::uint64_t min_alignment = 4096);

  // First fit. `alignment` must be a power of two; the result is aligned to
  // max(alignment, min_alignment) and the size is rounded up to min_alignment.
  // kRefused with a hint when nothing fits (exhausted, or the mask leaves no room).
  Result<std::uint64_t> allocate(std::uint64_t size, std::uint64_t alignment = 4096);
  // Claims a fixed range (re-mapping at the IOVAs recorded before a kexec). kBusy when it
  // overlaps an allocation, kInvalidInput when it is outside the usable ranges.
  Status reserve(std::uint64_t iova, std::uint64_t size);
  // Releases an allocation made by allocate() or reserve(); kNotFound when there is none at iova.
  Status free(std::uint64_t iova);

  // The reported ranges clipped to the DMA mask (and with IOVA 0 removed).
  const std::vector<IovaRange>& usable() const { return usable_; }
  std::uint64_t min_alignment() const { return min_alignment_; }

 private:
  bool overlaps(std::uint64_t start, std::uint64_t last) const;
  std::vector<IovaRange> usable_;
  std::uint64_t min_alignment_;
  std::map<std::uint64_t, std::uint64_t> used_;  // start -> last (inclusive)
};

}  // namespace lu::vfio
