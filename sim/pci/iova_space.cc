#include "sim/pci/iova_space.h"

#include <cerrno>

namespace lu::sim::pci {

Status IovaSpace::map(const DmaWindow& w) {
  if (w.size == 0 || w.size % 4096 || w.iova % 4096 || w.iova + w.size < w.iova)
    return fail(ErrorKind::kInvalidInput, "sim map DMA", std::to_string(w.iova), "IOVA and size must be 4 KiB aligned, size non-zero", EINVAL);
  if (w.memfd < 0 && !w.host)
    return fail(ErrorKind::kInvalidInput, "sim map DMA", std::to_string(w.iova), "give a memfd or host memory", EINVAL);
  auto window = std::make_shared<Window>();
  window->size = w.size;
  if (w.memfd >= 0) {
    window->mapping = LU_TRY(Mapping::map_shared(w.memfd, w.size, w.offset, true, "sim DMA window"));
    window->host = window->mapping.data();
  } else {
    window->host = w.host;
  }
  std::lock_guard lock(mu_);
  auto next = windows_.lower_bound(w.iova);
  bool clash = next != windows_.end() && next->first < w.iova + w.size;
  if (!clash && next != windows_.begin()) {
    auto prev = std::prev(next);
    clash = prev->first + prev->second->size > w.iova;
  }
  if (clash)
    return fail(ErrorKind::kBusy, "sim map DMA", std::to_string(w.iova), "the IOVA range overlaps an existing mapping", EEXIST);
  windows_[w.iova] = std::move(window);
  return {};
}

Status IovaSpace::unmap(std::uint64_t iova, std::uint64_t size) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(iova);
  if (it == windows_.end() || it->second->size != size)
    return fail(ErrorKind::kNotFound, "sim unmap DMA", std::to_string(iova), "no mapping of exactly this range", ENOENT);
  windows_.erase(it);
  return {};
}

void IovaSpace::unmap_all() {
  std::lock_guard lock(mu_);
  windows_.clear();
}

std::optional<IovaSpace::Translation> IovaSpace::translate(std::uint64_t iova, std::uint64_t size) const {
  std::lock_guard lock(mu_);
  auto it = windows_.upper_bound(iova);
  if (it == windows_.begin()) return std::nullopt;
  --it;
  std::uint64_t rel = iova - it->first;
  if (rel >= it->second->size || size > it->second->size - rel) return std::nullopt;
  return Translation{it->second, it->second->host + rel};
}

std::size_t IovaSpace::count() const {
  std::lock_guard lock(mu_);
  return windows_.size();
}

}  // namespace lu::sim::pci
