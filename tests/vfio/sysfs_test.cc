#include "vfio/sysfs.h"

#include <gtest/gtest.h>

#include "tests/vfio/fake_tree.h"

namespace lu::vfio {
namespace {

using lu::testing::FakeDevice;
using lu::testing::FakeTree;

Bdf bdf(const char* text) { return *Bdf::parse(text); }

TEST(PciSysfs, ResolvesCdevNameAndIommuGroupFromTheLinks) {
  FakeTree tree;
  tree.add({.bdf = "0000:00:04.0", .group = 17, .cdev = 5});
  PciSysfs sysfs(tree.sys());
  auto name = sysfs.vfio_cdev_name(bdf("0000:00:04.0"));
  ASSERT_TRUE(name) << name.error().message();
  EXPECT_EQ(*name, "vfio5");
  auto group = sysfs.iommu_group(bdf("0000:00:04.0"));
  ASSERT_TRUE(group) << group.error().message();
  EXPECT_EQ(*group, 17u);
}

TEST(PciSysfs, ReadsVendorAndDeviceIds) {
  FakeTree tree;
  tree.add({.vendor = "0x1234", .device = "0x11e8"});
  auto ids = PciSysfs(tree.sys()).ids(bdf("0000:00:04.0"));
  ASSERT_TRUE(ids) << ids.error().message();
  EXPECT_EQ(ids->vendor, 0x1234);
  EXPECT_EQ(ids->device, 0x11e8);
}

TEST(PciSysfs, MissingDeviceIsNotFound) {
  FakeTree tree;
  auto name = PciSysfs(tree.sys()).vfio_cdev_name(bdf("0000:00:05.0"));
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().kind, ErrorKind::kNotFound) << name.error().message();
  EXPECT_EQ(name.error().subject, "0000:00:05.0");
}

TEST(PciSysfs, NoVfioDevDirectoryMeansCdevUnavailable) {
  FakeTree tree;
  tree.add({.cdev = -1});
  auto name = PciSysfs(tree.sys()).vfio_cdev_name(bdf("0000:00:04.0"));
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().kind, ErrorKind::kUnavailable) << name.error().message();
  EXPECT_NE(name.error().hint.find("CONFIG_VFIO_DEVICE_CDEV"), std::string::npos) << name.error().message();
}

TEST(PciSysfs, NoIommuGroupLinkMeansIommuOff) {
  FakeTree tree;
  tree.add({.group = -1});
  auto group = PciSysfs(tree.sys()).iommu_group(bdf("0000:00:04.0"));
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().kind, ErrorKind::kUnavailable) << group.error().message();
  EXPECT_NE(group.error().hint.find("intel_iommu=on"), std::string::npos) << group.error().message();
}

TEST(PciSysfs, GroupLinkNotEndingInDigitsIsRejected) {
  FakeTree tree;
  tree.add({.group = -1});
  std::filesystem::create_symlink("../../../kernel/iommu_groups/../../etc",
                                  tree.sys() + "/bus/pci/devices/0000:00:04.0/iommu_group");
  auto group = PciSysfs(tree.sys()).iommu_group(bdf("0000:00:04.0"));
  ASSERT_FALSE(group) << "accepted group " << *group;
  EXPECT_EQ(group.error().kind, ErrorKind::kCorruptState) << group.error().message();
}

TEST(PciSysfs, VfioDevEntryThatIsNotVfioNIsIgnored) {
  FakeTree tree;
  tree.add({.cdev = -1});
  std::filesystem::create_directories(tree.sys() + "/bus/pci/devices/0000:00:04.0/vfio-dev/vfio../");
  std::filesystem::create_directories(tree.sys() + "/bus/pci/devices/0000:00:04.0/vfio-dev/vfioX");
  auto name = PciSysfs(tree.sys()).vfio_cdev_name(bdf("0000:00:04.0"));
  ASSERT_FALSE(name) << "accepted " << *name;
  EXPECT_EQ(name.error().kind, ErrorKind::kUnavailable) << name.error().message();
}

TEST(PciSysfs, GuardAcceptsVfioPci) {
  FakeTree tree;
  tree.add({.driver = "vfio-pci"});
  auto st = PciSysfs(tree.sys()).require_vfio_pci(bdf("0000:00:04.0"));
  EXPECT_TRUE(st) << st.error().message();
}

TEST(PciSysfs, GuardRefusesAnotherDriverWithTheBindCommand) {
  FakeTree tree;
  tree.add({.driver = "e1000e"});
  auto st = PciSysfs(tree.sys()).require_vfio_pci(bdf("0000:00:04.0"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kNotBound) << st.error().message();
  EXPECT_NE(st.error().hint.find("`scripts/lu-test-bind-vfio 0000:00:04.0`"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().hint.find("e1000e"), std::string::npos) << st.error().message();
}

TEST(PciSysfs, GuardRefusesVariantDriversAndUnboundDevices) {
  FakeTree tree;
  tree.add({.bdf = "0000:00:04.0", .driver = "mlx5_vfio_pci"});
  tree.add({.bdf = "0000:00:05.0", .driver = ""});
  PciSysfs sysfs(tree.sys());
  auto variant = sysfs.require_vfio_pci(bdf("0000:00:04.0"));
  ASSERT_FALSE(variant);
  EXPECT_NE(variant.error().hint.find("variant"), std::string::npos) << variant.error().message();
  auto unbound = sysfs.require_vfio_pci(bdf("0000:00:05.0"));
  ASSERT_FALSE(unbound);
  EXPECT_NE(unbound.error().hint.find("no driver"), std::string::npos) << unbound.error().message();
  EXPECT_NE(unbound.error().hint.find("scripts/lu-test-bind-vfio 0000:00:05.0"), std::string::npos);
}

}  // namespace
}  // namespace lu::vfio
