// Which kernel a bzImage is, from its real-mode setup header (Documentation/arch/x86/boot.rst):
// "HdrS" at 0x202, and at 0x20e the offset (from 0x200) of a NUL-terminated version string
// whose first word is the release ("7.3.4 (builder@host) #1 SMP ...").
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "base/fd.h"
#include "machine/machine.h"

namespace lu {

std::string bzimage_release(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return {};
  char magic[4];
  std::uint16_t offset = 0;
  if (::pread(fd.get(), magic, 4, 0x202) != 4 || std::memcmp(magic, "HdrS", 4) != 0) return {};
  if (::pread(fd.get(), &offset, 2, 0x20e) != 2 || offset == 0) return {};
  char text[128] = {};
  if (::pread(fd.get(), text, sizeof text - 1, 0x200 + offset) <= 0) return {};
  std::string version(text);
  return version.substr(0, version.find(' '));
}

}  // namespace lu
