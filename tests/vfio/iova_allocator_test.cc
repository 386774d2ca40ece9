#include "vfio/iova_allocator.h"

#include <gtest/gtest.h>

#include "tests/vfio/assert_ok.h"

namespace lu::vfio {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

TEST(IovaAllocator, NeverHandsOutIovaZero) {
  IovaAllocator a({{0, kGiB - 1}}, 64);
  auto iova = a.allocate(4096);
  ASSERT_TRUE(iova) << iova.error().message();
  EXPECT_EQ(*iova, 4096u);
}

TEST(IovaAllocator, HonoursAlignmentAndRoundsSizeToPages) {
  IovaAllocator a({{0x1000, kGiB - 1}}, 64);
  auto first = a.allocate(100);
  ASSERT_TRUE(first) << first.error().message();
  auto second = a.allocate(kMiB, 2 * kMiB);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(*second % (2 * kMiB), 0u);
  auto third = a.allocate(4096);
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_EQ(*third, *first + 4096) << "100 bytes take one page; the gap before the 2 MiB block is reused";
}

TEST(IovaAllocator, SkipsTheHoleBetweenReportedRanges) {
  // x86's MSI window 0xfee00000..0xfeefffff is reported as a hole between two ranges.
  IovaAllocator a({{0, 0xfedfffff}, {0xfef00000, (1ull << 48) - 1}}, 64);
  LU_ASSERT_OK(a.reserve(0x1000, 0xfedfffff - 0x1000 + 1));
  auto iova = a.allocate(kMiB);
  ASSERT_TRUE(iova) << iova.error().message();
  EXPECT_EQ(*iova, 0xfef00000u);
}

TEST(IovaAllocator, ClipsRangesToTheDmaMask) {
  IovaAllocator a({{0, (1ull << 48) - 1}}, 28);  // edu: below 256 MiB
  ASSERT_EQ(a.usable().size(), 1u);
  EXPECT_EQ(a.usable()[0].last, (1ull << 28) - 1);
  auto big = a.allocate(255 * kMiB);
  ASSERT_TRUE(big) << big.error().message();
  EXPECT_LT(*big + 255 * kMiB - 1, 1ull << 28);
  auto none = a.allocate(2 * kMiB);
  ASSERT_FALSE(none) << "allocated above the 28-bit mask at " << *none;
  EXPECT_EQ(none.error().kind, ErrorKind::kRefused) << none.error().message();
}

TEST(IovaAllocator, RangesEntirelyAboveTheMaskAreDropped) {
  IovaAllocator a({{1ull << 32, (1ull << 40) - 1}}, 32);
  EXPECT_TRUE(a.usable().empty());
  auto r = a.allocate(4096);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().hint.find("DMA mask"), std::string::npos) << r.error().message();
}

TEST(IovaAllocator, ExhaustionIsRefusedAndFreeingMakesRoomAgain) {
  IovaAllocator a({{0x10000, 0x10000 + 4 * 4096 - 1}}, 64);
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 4; ++i) {
    auto r = a.allocate(4096);
    ASSERT_TRUE(r) << r.error().message();
    got.push_back(*r);
  }
  auto full = a.allocate(4096);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind, ErrorKind::kRefused) << full.error().message();
  LU_ASSERT_OK(a.free(got[2]));
  auto again = a.allocate(4096);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, got[2]);
}

TEST(IovaAllocator, ReserveRefusesOverlapAndRangesOutsideTheReport) {
  IovaAllocator a({{0x100000, 0x1ffffff}}, 64);
  LU_ASSERT_OK(a.reserve(0x200000, 0x100000));
  auto overlap = a.reserve(0x2ff000, 0x2000);
  ASSERT_FALSE(overlap);
  EXPECT_EQ(overlap.error().kind, ErrorKind::kBusy) << overlap.error().message();
  auto outside = a.reserve(0x1fff000, 0x2000);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().kind, ErrorKind::kInvalidInput) << outside.error().message();
  auto r = a.allocate(0x100000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 0x100000u);
  auto next = a.allocate(4096);
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(*next, 0x300000u) << "the reserved block is skipped";
}

TEST(IovaAllocator, ReportedAlignmentRaisesTheMinimum) {
  IovaAllocator a({{0, kGiB}}, 64, 64 * 1024);
  auto r = a.allocate(4096);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r % (64 * 1024), 0u);
  auto r2 = a.allocate(4096);
  ASSERT_TRUE(r2) << r2.error().message();
  EXPECT_EQ(*r2 - *r, 64u * 1024) << "sizes round up to the minimum alignment";
}

TEST(IovaAllocator, FreeOfUnknownIovaIsNotFound) {
  IovaAllocator a({{0, kGiB}}, 64);
  auto st = a.free(0x5000);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound) << st.error().message();
}

TEST(IovaAllocator, TopOfTheAddressSpaceDoesNotOverflow) {
  IovaAllocator a({{~0ull - 0x3fff, ~0ull}}, 64);
  auto r = a.allocate(0x4000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, ~0ull - 0x3fff);
  EXPECT_FALSE(a.allocate(0x1000));
}

}  // namespace
}  // namespace lu::vfio
