// memfd helpers: the file type mainline LUO preserves.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace lu {

// A sized memfd; LUO pins pages and forbids resizing while preserved, so size it first.
Result<MemFd> create_memfd(const std::string& name, std::span<const std::uint8_t> content);
Result<MemFd> create_sized_memfd(const std::string& name, std::size_t size);
Result<std::vector<std::uint8_t>> read_whole_fd(int fd, std::size_t limit = 1u << 30);
Status pwrite_all(int fd, std::span<const std::uint8_t> data, std::uint64_t offset, const std::string& what);

// A private, owned mmap of a shared mapping; unmapped on destruction.
class Mapping {
 public:
  static Result<Mapping> map_shared(int fd, std::size_t size, std::uint64_t offset, bool writable,
                                    const std::string& what);
  Mapping() = default;
  Mapping(Mapping&& o) noexcept;
  Mapping& operator=(Mapping&& o) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();
  std::uint8_t* data() const { return static_cast<std::uint8_t*>(addr_); }
  std::size_t size() const { return size_; }

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace lu
