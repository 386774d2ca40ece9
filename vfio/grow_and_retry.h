// The one helper for kernel replies of variable size (IOMMU_IOAS_IOVA_RANGES answers EMSGSIZE
// with the count it needs; VFIO_IOMMU_GET_INFO raises argsz).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/result.h"

namespace lu::vfio {

// Calls attempt(capacity) until the reply fits. attempt returns Result<std::optional<size_t>>:
// nullopt when the reply fitted, or the capacity the kernel asked for. A kernel that keeps
// asking for more (a reply growing between calls) gets `max_rounds` tries.
template <class Attempt>
Status grow_and_retry(std::size_t initial, Attempt&& attempt, const std::string& what, int max_rounds = 4) {
  std::size_t capacity = initial;
  for (int round = 0; round < max_rounds; ++round) {
    std::optional<std::size_t> wanted = LU_TRY(attempt(capacity));
    if (!wanted) return {};
    if (*wanted <= capacity)
      return fail(ErrorKind::kInternal, what, "capacity " + std::to_string(capacity),
                  "the kernel asked for less room than it was given");
    capacity = *wanted;
  }
  return fail(ErrorKind::kSystem, what, "capacity " + std::to_string(capacity),
              "the reply kept growing between calls; retry");
}

}  // namespace lu::vfio
