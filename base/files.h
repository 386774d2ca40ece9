// Small file helpers with errno-carrying errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace lu {

Result<std::string> read_text_file(const std::string& path, std::size_t limit = 1 << 20);
Result<std::vector<std::uint8_t>> read_binary_file(const std::string& path,
                                                   std::size_t limit = 64u << 20);
// write temp + fsync + rename + fsync(dir), file mode 0600. A kexec does not sync filesystems,
// so anything the next boot must read goes through here.
Status write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes);
Status make_directories(const std::string& path, unsigned mode = 0700);
bool path_exists(const std::string& path);

// Appends and fsyncs: the KTAP stream must be on disk before the kexec syscall.
class DurableAppender {
 public:
  static Result<DurableAppender> open(const std::string& path, bool truncate);
  Status append(const std::string& text);
  Status sync();
  const std::string& path() const { return path_; }

 private:
  DurableAppender(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace lu
