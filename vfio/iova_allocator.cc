#include "base/hex.h"
#include "vfio/iova_allocator.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <string>

namespace lu::vfio {
namespace {


// Rounds up to a power-of-two alignment; false on overflow.
bool align_up(std::uint64_t v, std::uint64_t alignment, std::uint64_t* out) {
  std::uint64_t r = (v + alignment - 1) & ~(alignment - 1);
  if (r < v) return false;
  *out = r;
  return true;
}

}  // namespace

IovaAllocator::IovaAllocator(std::vector<IovaRange> ranges, unsigned dma_mask_bits, std::uint64_t min_alignment)
    : min_alignment_(std::max<std::uint64_t>(std::bit_ceil(std::max<std::uint64_t>(min_alignment, 1)), 4096)) {
  const std::uint64_t mask_last = dma_mask_bits >= 64 ? ~0ull : (1ull << dma_mask_bits) - 1;
  std::sort(ranges.begin(), ranges.end(), [](auto& a, auto& b) { return a.start < b.start; });
  for (auto r : ranges) {
    if (r.last < r.start || r.start > mask_last) continue;
    r.last = std::min(r.last, mask_last);
    if (r.start == 0) {
      if (r.last < min_alignment_) continue;
      r.start = min_alignment_;
    }
    usable_.push_back(r);
  }
}

bool IovaAllocator::overlaps(std::uint64_t start, std::uint64_t last) const {
  auto it = used_.upper_bound(last);  // first allocation starting after `last`
  if (it == used_.begin()) return false;
  --it;
  return it->second >= start;
}

Result<std::uint64_t> IovaAllocator::allocate(std::uint64_t size, std::uint64_t alignment) {
  if (size == 0 || !std::has_single_bit(alignment))
    return fail(ErrorKind::kInternal, "allocate IOVA", "size " + hex(size) + " alignment " + hex(alignment),
                "size must be non-zero and alignment a power of two");
  alignment = std::max(alignment, min_alignment_);
  std::uint64_t rounded;
  if (!align_up(size, min_alignment_, &rounded)) return fail(ErrorKind::kInvalidInput, "allocate IOVA", hex(size), "size overflows");
  for (const auto& r : usable_) {
    std::uint64_t candidate;
    if (!align_up(r.start, alignment, &candidate)) continue;
    while (candidate <= r.last && r.last - candidate >= rounded - 1) {
      std::uint64_t last = candidate + rounded - 1;
      auto next = used_.lower_bound(candidate);
      bool clash = false;
      if (next != used_.begin()) {
        auto prev = std::prev(next);
        if (prev->second >= candidate) {
          clash = true;
          if (!align_up(prev->second + 1, alignment, &candidate)) break;
        }
      }
      if (!clash && next != used_.end() && next->first <= last) {
        clash = true;
        if (next->second == ~0ull || !align_up(next->second + 1, alignment, &candidate)) break;
      }
      if (!clash) {
        used_[candidate] = last;
        return candidate;
      }
    }
  }
  return fail(ErrorKind::kRefused, "allocate IOVA", "size " + hex(size) + " alignment " + hex(alignment),
              "no free IOVA range fits inside the reported IOVA ranges below the device's DMA mask; map less memory "
              "or free earlier mappings");
}

Status IovaAllocator::reserve(std::uint64_t iova, std::uint64_t size) {
  std::uint64_t last = iova + size - 1;
  if (size == 0 || last < iova)
    return fail(ErrorKind::kInvalidInput, "reserve IOVA", hex(iova), "size must be non-zero and not wrap");
  bool inside = std::any_of(usable_.begin(), usable_.end(), [&](const IovaRange& r) {
    return iova >= r.start && last <= r.last;
  });
  if (!inside)
    return fail(ErrorKind::kInvalidInput, "reserve IOVA", hex(iova) + "+" + hex(size),
                "the range is outside the IOMMU's reported IOVA ranges or above the device's DMA mask");
  if (overlaps(iova, last))
    return fail(ErrorKind::kBusy, "reserve IOVA", hex(iova) + "+" + hex(size), "the range overlaps an earlier mapping");
  used_[iova] = last;
  return {};
}

Status IovaAllocator::free(std::uint64_t iova) {
  if (used_.erase(iova) == 0)
    return fail(ErrorKind::kNotFound, "free IOVA", hex(iova), "no allocation starts at this IOVA");
  return {};
}

}  // namespace lu::vfio
