#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace lu {
namespace {

Result<std::vector<std::uint8_t>> read_all(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    return fail(e == ENOENT ? ErrorKind::kNotFound : ErrorKind::kSystem, "open", path,
                "check that the path exists and is readable", e);
  }
  std::vector<std::uint8_t> out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::kSystem, "read", path, "the file could not be read", errno);
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit)
      return fail(ErrorKind::kCorruptState, "read", path,
                  "the file is larger than " + std::to_string(limit) +
                      " bytes, which no lu-test file ever is; it is not ours or is damaged");
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Status write_all(int fd, const std::uint8_t* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::kSystem, "write", path, "check free space on the filesystem", errno);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace

Result<std::string> read_text_file(const std::string& path, std::size_t limit) {
  auto bytes = LU_TRY(read_all(path, limit));
  return std::string(bytes.begin(), bytes.end());
}

Result<std::vector<std::uint8_t>> read_binary_file(const std::string& path, std::size_t limit) {
  return read_all(path, limit);
}

Status write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd)
      return fail(ErrorKind::kSystem, "open", temp, "check that the state directory exists and is writable", errno);
    if (auto st = write_all(fd.get(), bytes.data(), bytes.size(), temp); !st) {
      ::unlink(temp.c_str());
      return st;
    }
    if (::fsync(fd.get()) != 0) {
      int e = errno;
      ::unlink(temp.c_str());
      return fail(ErrorKind::kSystem, "fsync", temp, "the storage did not accept the data", e);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(temp.c_str());
    return fail(ErrorKind::kSystem, "rename", path, "check permissions on the state directory", e);
  }
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd || ::fsync(dirfd.get()) != 0)
    return fail(ErrorKind::kSystem, "fsync", dir, "the directory entry may not survive a kexec", errno);
  return {};
}

Status make_directories(const std::string& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return fail(ErrorKind::kSystem, "mkdir", path, "check permissions of the parent directory", ec.value());
  ::chmod(path.c_str(), mode);
  return {};
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<DurableAppender> DurableAppender::open(const std::string& path, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  UniqueFd fd(::open(path.c_str(), flags, 0600));
  if (!fd) return fail(ErrorKind::kSystem, "open", path, "check that the log directory is writable", errno);
  return DurableAppender(std::move(fd), path);
}

Status DurableAppender::append(const std::string& text) {
  return write_all(fd_.get(), reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), path_);
}

Status DurableAppender::sync() {
  if (::fsync(fd_.get()) != 0)
    return fail(ErrorKind::kSystem, "fsync", path_, "the log may not survive the kexec", errno);
  return {};
}

}  // namespace lu
