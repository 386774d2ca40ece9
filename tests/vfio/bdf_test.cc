#include "vfio/bdf.h"

#include <gtest/gtest.h>

namespace lu::vfio {
namespace {

TEST(Bdf, AcceptsCanonicalFormAndLowercasesIt) {
  auto b = Bdf::parse("0000:6A:01.7");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->str(), "0000:6a:01.7");
  EXPECT_EQ(b->domain(), 0);
  EXPECT_EQ(b->bus(), 0x6a);
  EXPECT_EQ(b->device(), 1);
  EXPECT_EQ(b->function(), 7);
}

TEST(Bdf, AcceptsHighestDomainBusDeviceFunction) {
  auto b = Bdf::parse("ffff:ff:1f.7");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->domain(), 0xffff);
}

class HostileBdf : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileBdf, IsRejectedAsInvalidInputWithTheExpectedFormInTheHint) {
  auto b = Bdf::parse(GetParam());
  ASSERT_FALSE(b) << "accepted: " << b->str();
  EXPECT_EQ(b.error().kind, ErrorKind::kInvalidInput) << b.error().message();
  EXPECT_NE(b.error().hint.find("DDDD:BB:DD.F"), std::string::npos) << b.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Strings, HostileBdf,
    ::testing::Values("", "00:04.0", "0000:00:04", "0000:00:04.0 ", " 0000:00:04.0", "0000:00:04.0/",
                      "../../../../etc", "0000:00/04.0", "0000:00:..:.0", "0000:00:04.8", "0000:00:20.0",
                      "0000:0g:04.0", "0000-00-04.0", "0000:00:04,0", "00000:00:04.0", "0000:00:04.00",
                      std::string("0000:00:04\0.0", 12), std::string(4096, 'a'), "0000:00:04.0\n", "+000:00:04.0",
                      "0x00:00:04.0", "0000:00:04.-", "../0:00:04.0"));

TEST(Bdf, ErrorSubjectEscapesControlCharacters) {
  auto b = Bdf::parse(std::string("00\x01\n:00:04.0"));
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().subject.find("\\x01"), std::string::npos) << b.error().message();
  EXPECT_EQ(b.error().subject.find('\n'), std::string::npos) << b.error().message();
}

}  // namespace
}  // namespace lu::vfio
