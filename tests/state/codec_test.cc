// The state envelope refuses every damaged or hostile input with a clear error, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <random>

#include "base/digest.h"
#include "base/files.h"
#include "base/parse.h"
#include "state/codec.h"
#include "state/store.h"

namespace lu::state {
namespace {

RunState sample() {
  RunState s;
  s.run_id = "0123456789abcdef";
  s.iteration = 3;
  s.nonce = "feedfacecafebeef";
  s.sessions.push_back({"lut.01234567.3.memfd.0", "memfd", {{1, "memfd", "pattern-1", 1, 0x55}}});
  state::DeviceRecord d;
  d.bdf = "0000:00:04.0";
  d.bus_master_before = true;
  d.config_before = {0x86, 0x80};
  d.job.copies = 20000;
  s.devices.push_back(d);
  s.planned_checks = {"kexec.nonce", "memfd.content"};
  return s;
}

void refresh_digest(std::vector<std::uint8_t>& bytes) {
  std::uint64_t d = digest64({bytes.data() + kHeaderSize, bytes.size() - kHeaderSize});
  std::memcpy(bytes.data() + 16, &d, 8);
}

TEST(StateCodec, RoundTripKeepsEveryRecord) {
  auto decoded = decode(encode(sample()), "test");
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->nonce, "feedfacecafebeef");
  EXPECT_EQ(decoded->iteration, 3u);
  ASSERT_EQ(decoded->sessions.size(), 1u);
  EXPECT_EQ(decoded->sessions[0].files[0].digest, 0x55u);
  ASSERT_EQ(decoded->devices.size(), 1u);
  EXPECT_TRUE(decoded->devices[0].bus_master_before);
  EXPECT_EQ(decoded->devices[0].config_before.size(), 2u);
  EXPECT_EQ(decoded->devices[0].job.copies, 20000u);
}

TEST(StateCodec, EveryTruncationIsReportedAsCorrupt) {
  auto bytes = encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode({bytes.data(), n}, "test");
    ASSERT_FALSE(r) << "length " << n;
    EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState) << r.error().message();
  }
}

TEST(StateCodec, AFlippedPayloadByteFailsTheDigest) {
  auto bytes = encode(sample());
  bytes[kHeaderSize + 5] ^= 1;
  auto r = decode(bytes, "test");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().hint.find("digest"), std::string::npos) << r.error().message();
}

TEST(StateCodec, ForeignFileIsNotOurs) {
  std::vector<std::uint8_t> elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0,    0,   0,   0,   0, 0, 0, 0, 0, 0};
  auto r = decode(elf, "test");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().hint.find("magic"), std::string::npos);
}

TEST(StateCodec, OtherSchemaVersionIsIncompatibleNotCorrupt) {
  auto bytes = encode(sample());
  std::uint32_t v = kSchemaVersion + 1;
  std::memcpy(bytes.data() + 8, &v, 4);
  auto r = decode(bytes, "test");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kIncompatibleState) << r.error().message();
}

TEST(StateCodec, HostilePayloadWithValidDigestIsRefusedWithoutCrashing) {
  // A crafted file: the digest is right, but a string claims 2^62 bytes.
  auto bytes = encode(sample());
  std::uint64_t huge = 1ull << 62;
  std::memcpy(bytes.data() + kHeaderSize, &huge, 8);
  refresh_digest(bytes);
  auto r = decode(bytes, "test");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState) << r.error().message();
}

TEST(StateCodec, HeaderClaimingAHugePayloadIsRefused) {
  auto bytes = encode(sample());
  std::uint32_t len = 0xffffffffu;
  std::memcpy(bytes.data() + 12, &len, 4);
  auto r = decode(bytes, "test");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState);
}

TEST(StateCodec, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  auto good = encode(sample());
  for (int i = 0; i < 2000; ++i) {
    auto bytes = good;
    for (int k = 0; k < 4; ++k) bytes[kHeaderSize + rng() % (bytes.size() - kHeaderSize)] = static_cast<std::uint8_t>(rng());
    refresh_digest(bytes);  // get past the digest so cereal sees the damage
    auto r = decode(bytes, "fuzz");
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState) << r.error().message();
    }
  }
}

TEST(ParseNumber, NumbersFromOutsideNeverThrow) {
  EXPECT_EQ(parse_number<std::uint64_t>("42"), 42u);
  EXPECT_FALSE(parse_number<std::uint64_t>("99999999999999999999999")) << "overflow is refused, not thrown";
  EXPECT_FALSE(parse_number<std::uint64_t>("12abc")) << "partial parses are refused";
  EXPECT_FALSE(parse_number<std::uint64_t>("-1"));
  EXPECT_EQ(parse_number<std::int64_t>("-1"), -1);
  EXPECT_FALSE(parse_number<std::uint64_t>(""));
}

TEST(StateCodec, IdentifiersThatCouldNameAPathAreRefused) {
  // The run id and nonce name record files: a crafted state must not reach outside records/.
  for (const char* bad : {"../../etc/x", "ab/cd", "", "ABCDEF0123456789"}) {
    auto s = sample();
    s.run_id = bad;
    auto r = decode(encode(s), "crafted");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState) << r.error().message();
  }
}

TEST(StateFileStore, SavesAtomicallyWithMode0600AndLoadsBack) {
  char dir[] = "/tmp/lu-state-XXXXXX";
  ASSERT_TRUE(::mkdtemp(dir));
  FileStore store(std::string(dir) + "/state.bin");
  ASSERT_TRUE(store.save(sample()));
  struct stat st {};
  ASSERT_EQ(::stat(store.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->run_id, "0123456789abcdef");
  EXPECT_FALSE(path_exists(store.path() + ".tmp." + std::to_string(::getpid())));
  ASSERT_TRUE(store.remove());
  auto missing = store.load();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNoState);
  ::rmdir(dir);
}

}  // namespace
}  // namespace lu::state
