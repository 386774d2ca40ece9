#include "vfio/verify.h"

#include <gtest/gtest.h>

#include <vector>

namespace lu::vfio {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 131 + 7);
  return v;
}

TEST(Verify, IdenticalBuffersHaveNoMismatch) {
  auto a = pattern(300000);
  EXPECT_FALSE(first_mismatch(a, a));
  EXPECT_FALSE(first_mismatch({}, {}));
}

TEST(Verify, ReportsTheFirstDifferingByteAndBothValues) {
  auto a = pattern(300000);
  for (std::size_t at : {std::size_t{0}, std::size_t{65535}, std::size_t{65536}, std::size_t{200001},
                         std::size_t{299999}}) {
    auto b = a;
    b[at] ^= 0x5a;
    b[at + (at + 1 < b.size() ? 1 : 0)] ^= at + 1 < b.size() ? 0x01 : 0;  // a later difference must not win
    auto m = first_mismatch(a, b);
    ASSERT_TRUE(m) << "at " << at;
    EXPECT_EQ(m->offset, at);
    EXPECT_EQ(m->expected, a[at]);
    EXPECT_EQ(m->actual, b[at]);
  }
}

TEST(Verify, ShorterActualMismatchesWhereItEnds) {
  auto a = pattern(1000);
  auto b = a;
  b.resize(600);
  auto m = first_mismatch(a, b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->offset, 600u);
}

}  // namespace
}  // namespace lu::vfio
