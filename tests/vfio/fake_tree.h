// Test support: a temp dir holding a fake sysfs tree and a fake /dev root, so the kernel
// backend's path logic and open sequence run without VFIO. Device nodes are plain files; the
// kernel backend's pread/pwrite/mmap work on them as on a device fd.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lu::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lu-vfio-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct FakeDevice {
  std::string bdf = "0000:00:04.0";
  std::string driver = "vfio-pci";  // empty: no driver link
  int group = 42;                   // < 0: no iommu_group link
  int cdev = 3;                     // < 0: no vfio-dev directory
  std::string vendor = "0x1b36";
  std::string device = "0x7110";
};

class FakeTree {
 public:
  FakeTree() {
    namespace fs = std::filesystem;
    fs::create_directories(sys() + "/bus/pci/devices");
    fs::create_directories(sys() + "/kernel/iommu_groups");
    fs::create_directories(dev() + "/vfio/devices");
    make_node(dev() + "/iommu");
    make_node(dev() + "/vfio/vfio");
  }

  std::string sys() const { return dir_.path() + "/sys"; }
  std::string dev() const { return dir_.path() + "/dev"; }

  // A device directory with the links sysfs has, and the /dev nodes VFIO would create.
  void add(const FakeDevice& d) {
    namespace fs = std::filesystem;
    std::string dir = sys() + "/bus/pci/devices/" + d.bdf;
    fs::create_directories(dir);
    write(dir + "/vendor", d.vendor + "\n");
    write(dir + "/device", d.device + "\n");
    if (!d.driver.empty()) fs::create_symlink("../../../bus/pci/drivers/" + d.driver, dir + "/driver");
    if (d.group >= 0) {
      fs::create_directories(sys() + "/kernel/iommu_groups/" + std::to_string(d.group));
      fs::create_symlink("../../../kernel/iommu_groups/" + std::to_string(d.group), dir + "/iommu_group");
      make_node(dev() + "/vfio/" + std::to_string(d.group));
    }
    if (d.cdev >= 0) {
      fs::create_directories(dir + "/vfio-dev/vfio" + std::to_string(d.cdev));
      make_node(dev() + "/vfio/devices/vfio" + std::to_string(d.cdev));
    }
  }

  // A plain file standing in for a device node, large enough for the region offsets the tests use.
  static void make_node(const std::string& path, off_t size = 0x40000) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      if (::ftruncate(fd, size) != 0) { /* the test's own checks will fail */ }
      ::close(fd);
    }
  }
  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

 private:
  TempDir dir_;
};

}  // namespace lu::testing
