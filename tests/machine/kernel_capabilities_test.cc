// The kernel backend's probe reads what the kernel built in; `auto` is only as honest as this.
#include <gtest/gtest.h>

#include "machine/kernel_capabilities.h"
#include "stages/outcome.h"

namespace lu {
namespace {

TEST(KernelCapabilities, LuoWithMemfdOnlyIsTheMainlineProfile) {
  auto c = capabilities_from_config("CONFIG_LIVEUPDATE=y\nCONFIG_LIVEUPDATE_MEMFD=y\n", "");
  EXPECT_TRUE(c.memfd);
  EXPECT_FALSE(c.device_fd);
  EXPECT_EQ(stages::strongest_profile(c), stages::Profile::kMemfd);
}

TEST(KernelCapabilities, EachSeriesAddsOneStepAndNeedsTheOneBelow) {
  std::string base = "CONFIG_LIVEUPDATE_MEMFD=y\nCONFIG_VFIO_PCI_LIVEUPDATE=y\n";
  EXPECT_EQ(stages::strongest_profile(capabilities_from_config(base, "")), stages::Profile::kVfioBase);
  std::string pci = base + "CONFIG_PCI_LIVEUPDATE=y\n";
  EXPECT_EQ(stages::strongest_profile(capabilities_from_config(pci, "")), stages::Profile::kVfioPci);
  EXPECT_EQ(stages::strongest_profile(capabilities_from_config(pci + "CONFIG_IOMMUFD_LIVEUPDATE=y\n", "")),
            stages::Profile::kVfioFull);
  // IOMMUFD preservation without the device handlers underneath proves nothing about devices.
  EXPECT_EQ(stages::strongest_profile(capabilities_from_config("CONFIG_LIVEUPDATE_MEMFD=y\nCONFIG_IOMMUFD_LIVEUPDATE=y\n", "")),
            stages::Profile::kMemfd);
}

TEST(KernelCapabilities, ASymbolMustBeAWholeLineSetToY) {
  auto c = capabilities_from_config("# CONFIG_VFIO_PCI_LIVEUPDATE is not set\nCONFIG_VFIO_PCI_LIVEUPDATE_X=y\n"
                                    "CONFIG_LIVEUPDATE_MEMFD=m\n", "");
  EXPECT_FALSE(c.device_fd);
  EXPECT_FALSE(c.memfd);
}

TEST(KernelCapabilities, NoLuoMeansNoProfileAtAllEvenWithHandlersConfigured) {
  auto c = capabilities_from_config("CONFIG_LIVEUPDATE_MEMFD=y\nCONFIG_VFIO_PCI_LIVEUPDATE=y\n", "LUO is not enabled");
  EXPECT_FALSE(c.luo());
  EXPECT_FALSE(stages::strongest_profile(c).has_value());
  EXPECT_NE(stages::profile_reason(c).find("LUO is not enabled"), std::string::npos);
}

TEST(KernelCapabilities, WithoutAConfigOnlyMemfdIsAssumed) {
  auto c = capabilities_from_config("", "");
  EXPECT_TRUE(c.memfd);
  EXPECT_FALSE(c.device_fd);
  EXPECT_NE(c.source.find("no kernel config"), std::string::npos);
}

}  // namespace
}  // namespace lu
