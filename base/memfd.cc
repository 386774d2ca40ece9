#include "base/memfd.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace lu {

Result<MemFd> create_sized_memfd(const std::string& name, std::size_t size) {
  MemFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC));
  if (!fd) return fail(ErrorKind::kSystem, "memfd_create", name, "check RLIMIT_NOFILE and available memory", errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return fail(ErrorKind::kSystem, "ftruncate", name, "check available memory (shmem)", errno);
  return fd;
}

Result<MemFd> create_memfd(const std::string& name, std::span<const std::uint8_t> content) {
  auto fd = LU_TRY(create_sized_memfd(name, content.size()));
  LU_TRY_VOID(pwrite_all(fd.get(), content, 0, name));
  return fd;
}

Status pwrite_all(int fd, std::span<const std::uint8_t> data, std::uint64_t offset, const std::string& what) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::kSystem, "pwrite", what, "check available memory", errno);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::vector<std::uint8_t>> read_whole_fd(int fd, std::size_t limit) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(ErrorKind::kSystem, "fstat", "fd " + std::to_string(fd), "the fd is not open", errno);
  auto size = static_cast<std::size_t>(st.st_size);
  if (size > limit)
    return fail(ErrorKind::kCorruptState, "fstat", "fd " + std::to_string(fd),
                "the file is larger than lu-test ever writes (" + std::to_string(size) + " bytes)");
  std::vector<std::uint8_t> out(size);
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::kSystem, "pread", "fd " + std::to_string(fd), "the file could not be read", errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<Mapping> Mapping::map_shared(int fd, std::size_t size, std::uint64_t offset, bool writable,
                                    const std::string& what) {
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* addr = ::mmap(nullptr, size, prot, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) return fail(ErrorKind::kSystem, "mmap", what, "check the size and offset of the mapping", errno);
  Mapping m;
  m.addr_ = addr;
  m.size_ = size;
  return m;
}

Mapping::Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    if (addr_) ::munmap(addr_, size_);
    addr_ = std::exchange(o.addr_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}
Mapping::~Mapping() {
  if (addr_) ::munmap(addr_, size_);
}

}  // namespace lu
