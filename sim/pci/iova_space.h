// The simulated IOMMU's view for one device: IOVA ranges mapped to memfd-backed (or borrowed)
// host memory. Translation hands out a shared reference, so an unmap during a copy cannot pull
// the memory from under the DMA engine. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/memfd.h"
#include "base/result.h"

namespace lu::sim::pci {

struct DmaWindow {
  std::uint64_t iova = 0;
  std::uint64_t size = 0;        // a multiple of 4096
  int memfd = -1;                // borrowed for the call: the model maps it MAP_SHARED and keeps that
  std::uint64_t offset = 0;      // within the memfd
  std::uint8_t* host = nullptr;  // instead of a memfd: borrowed memory that outlives the mapping
};

class IovaSpace {
 public:
  struct Translation {
    std::shared_ptr<void> keep_alive;
    std::uint8_t* host = nullptr;
  };

  // kInvalidInput for a zero size, unaligned iova/size or no backing; kBusy (EEXIST) when it
  // overlaps an existing mapping.
  Status map(const DmaWindow& window);
  // Exactly a mapped range; kNotFound otherwise.
  Status unmap(std::uint64_t iova, std::uint64_t size);
  void unmap_all();
  // The host address of [iova, iova + size) when one mapping covers it all.
  std::optional<Translation> translate(std::uint64_t iova, std::uint64_t size) const;
  std::size_t count() const;

 private:
  struct Window {
    std::uint64_t size = 0;
    std::uint8_t* host = nullptr;
    Mapping mapping;  // empty for borrowed memory
  };
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::shared_ptr<Window>> windows_;  // by iova
};

}  // namespace lu::sim::pci
