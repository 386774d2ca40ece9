// vfio/vfio.h alone is enough for engine code: the seam, the driver framework and the check
// helpers, with no driver's registers in sight.
#include "vfio/vfio.h"

#include <gtest/gtest.h>

#include "sim/pci/dsa_model.h"
#include "sim/pci/local_device.h"

namespace lu::vfio {
namespace {

TEST(PublicHeader, ProbesAndPacesADriverThroughTheFrameworkOnly) {
  sim::pci::DsaModel dsa;
  std::unique_ptr<Device> dev = sim::pci::make_local_device(dsa);
  auto ids = pci::read_ids(*dev);
  ASSERT_TRUE(ids) << ids.error().message();
  auto driver = DmaDriver::probe(*dev);
  ASSERT_TRUE(driver) << driver.error().message();
  EXPECT_STREQ(driver->info().name, "dsa");
  auto st = driver->set_pace(200);
  ASSERT_FALSE(st) << "set_pace before init is a framework error";
  EXPECT_EQ(st.error().kind, ErrorKind::kInternal);
  EXPECT_TRUE(Bdf::parse("0000:00:06.0"));
  const std::uint8_t a[] = {1, 2, 3}, b[] = {1, 2, 4};
  auto m = first_mismatch(a, b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->offset, 2u);
}

}  // namespace
}  // namespace lu::vfio
