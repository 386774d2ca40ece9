#include "vfio/sysfs.h"

#include "base/parse.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "base/files.h"

namespace lu::vfio {
namespace {

bool all_digits(const std::string& s, std::size_t from = 0) {
  if (s.size() <= from || s.size() - from > 9) return false;
  for (std::size_t i = from; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::string basename_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// readlink(2) into a string; errno in the error.
Result<std::string> read_link(const std::string& path, const std::string& subject, const char* hint) {
  std::vector<char> buf(4096);
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0)
    return fail(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kSystem, "readlink " + path, subject, hint,
                errno);
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

Result<std::uint16_t> read_id(const std::string& path, const std::string& subject) {
  auto text = LU_TRY(read_text_file(path, 64));
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 16);
  if (end == text.c_str() || v > 0xffff)
    return fail(ErrorKind::kCorruptState, "parse " + path, subject, "expected a hex id such as 0x8086");
  return static_cast<std::uint16_t>(v);
}

}  // namespace

// The installed path first: that is what a lab machine has; the source tree's for developers.
std::string bind_command(const Bdf& bdf) {
  return "/usr/libexec/lu-test/lu-test-bind-vfio " + bdf.str() + "` (from a source tree: `scripts/lu-test-bind-vfio " +
         bdf.str();
}

std::string PciSysfs::device_dir(const Bdf& bdf) const { return root_ + "/bus/pci/devices/" + bdf.str(); }

Status PciSysfs::require_present(const Bdf& bdf) const {
  struct stat st;
  if (::stat(device_dir(bdf).c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(ErrorKind::kNotFound, "find PCI device", bdf.str(),
                "no such device in " + root_ + "/bus/pci/devices; check the address with lspci -D", errno);
  return {};
}

Result<std::string> PciSysfs::vfio_cdev_name(const Bdf& bdf) const {
  LU_TRY_VOID(require_present(bdf));
  std::string dir = device_dir(bdf) + "/vfio-dev";
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return fail(ErrorKind::kUnavailable, "opendir " + dir, bdf.str(),
                "no VFIO cdev for this device: the kernel needs CONFIG_VFIO_DEVICE_CDEV (6.6+) and the device must be "
                "bound to vfio-pci (" + bind_command(bdf) + "); or use a group mode",
                errno);
  std::string found;
  int count = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("vfio", 0) == 0 && all_digits(name, 4)) {
      found = name;
      ++count;
    }
  }
  ::closedir(d);
  if (count != 1)
    return fail(ErrorKind::kUnavailable, "find vfio cdev in " + dir, bdf.str(),
                count == 0 ? "vfio-dev holds no vfioN entry: is the device bound to vfio-pci?"
                           : "vfio-dev holds more than one vfioN entry; the sysfs tree is not what the kernel makes");
  return found;
}

Result<unsigned> PciSysfs::iommu_group(const Bdf& bdf) const {
  LU_TRY_VOID(require_present(bdf));
  auto target = read_link(device_dir(bdf) + "/iommu_group", bdf.str(),
                          "the device has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on)");
  if (!target) {
    auto e = target.error();
    if (e.kind == ErrorKind::kNotFound) e.kind = ErrorKind::kUnavailable;
    return fail(e);
  }
  std::string name = basename_of(*target);
  auto group = parse_number<unsigned>(name);
  if (!group)
    return fail(ErrorKind::kCorruptState, "parse iommu_group link", bdf.str(),
                "the iommu_group link does not end in a group number: " + *target);
  return *group;
}

Result<std::optional<std::string>> PciSysfs::driver(const Bdf& bdf) const {
  LU_TRY_VOID(require_present(bdf));
  auto target = read_link(device_dir(bdf) + "/driver", bdf.str(), "");
  if (!target) {
    if (target.error().kind == ErrorKind::kNotFound) return std::optional<std::string>{};
    return fail(target.error());
  }
  return std::optional<std::string>(basename_of(*target));
}

Status PciSysfs::require_vfio_pci(const Bdf& bdf) const {
  auto drv = LU_TRY(driver(bdf));
  if (drv && *drv == "vfio-pci") return {};
  std::string now = drv ? "bound to " + *drv : "bound to no driver";
  return fail(ErrorKind::kNotBound, "check vfio-pci binding", bdf.str(),
              "the device is " + now + ", not vfio-pci (variant drivers are not preservable); bind it with `" +
                  bind_command(bdf) + "`");
}

Result<PciIds> PciSysfs::ids(const Bdf& bdf) const {
  LU_TRY_VOID(require_present(bdf));
  PciIds ids;
  ids.vendor = LU_TRY(read_id(device_dir(bdf) + "/vendor", bdf.str()));
  ids.device = LU_TRY(read_id(device_dir(bdf) + "/device", bdf.str()));
  return ids;
}

}  // namespace lu::vfio
