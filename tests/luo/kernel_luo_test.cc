// The kernel backend's LUO encoding, checked byte by byte through the ioctl seam.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "luo/luo.h"
#include "luo/uapi.h"
#include "tests/support/recording_ioctl.h"

namespace lu::luo {
namespace {

using testing::read_at;
using testing::RecordingIoctl;

std::size_t struct_size(unsigned long request) {
  switch (request) {
    case uapi::kCreateSession:
    case uapi::kRetrieveSession:
    case uapi::kSessionGetName: return 72;
    case uapi::kSessionPreserveFd:
    case uapi::kSessionRetrieveFd: return 16;
    case uapi::kSessionFinish: return 8;
  }
  return 0;
}

class KernelLuoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway.arg_size = struct_size;
    // /dev/null stands in for /dev/liveupdate: every ioctl goes through the recording seam.
    opener = make_kernel_opener(gateway, "/dev/null");
  }
  std::unique_ptr<Device> open_device() {
    auto d = opener->open();
    EXPECT_TRUE(d) << d.error().message();
    return std::move(*d);
  }
  RecordingIoctl gateway;
  std::unique_ptr<Opener> opener;
};

TEST(LuoUapi, RequestNumbersAreIoOfTypeBaWithoutSizeBits) {
  EXPECT_EQ(uapi::kCreateSession, 0xBA00u);
  EXPECT_EQ(uapi::kRetrieveSession, 0xBA01u);
  EXPECT_EQ(uapi::kSessionPreserveFd, 0xBA40u);
  EXPECT_EQ(uapi::kSessionRetrieveFd, 0xBA41u);
  EXPECT_EQ(uapi::kSessionFinish, 0xBA42u);
  EXPECT_EQ(uapi::kSessionGetName, 0xBA43u);
}

TEST(LuoUapi, StructSizesMatchTheKernel) {
  EXPECT_EQ(sizeof(uapi::CreateSession), 72u);
  EXPECT_EQ(sizeof(uapi::RetrieveSession), 72u);
  EXPECT_EQ(sizeof(uapi::SessionPreserveFd), 16u);
  EXPECT_EQ(sizeof(uapi::SessionRetrieveFd), 16u);
  EXPECT_EQ(sizeof(uapi::SessionFinish), 8u);
  EXPECT_EQ(sizeof(uapi::SessionGetName), 72u);
  EXPECT_EQ(alignof(uapi::SessionPreserveFd), 8u);
}

TEST_F(KernelLuoTest, CreateSessionPassesSizeNameAndNulTerminator) {
  gateway.respond = [](int, unsigned long, void* arg) {
    static_cast<uapi::CreateSession*>(arg)->fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
  };
  auto dev = open_device();
  auto s = dev->create_session("lu-test.state");
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(gateway.calls.size(), 1u);
  const auto& c = gateway.calls[0];
  EXPECT_EQ(c.request, 0xBA00u);
  EXPECT_EQ(read_at<std::uint32_t>(c.bytes, 0), 72u);
  EXPECT_EQ(read_at<std::int32_t>(c.bytes, 4), -1);
  EXPECT_EQ(std::memcmp(c.bytes.data() + 8, "lu-test.state", 13), 0);
  for (std::size_t i = 8 + 13; i < 72; ++i) EXPECT_EQ(c.bytes[i], 0) << "byte " << i;
}

TEST_F(KernelLuoTest, SixtyThreeCharacterNameFillsTheFieldAndKeepsTheNul) {
  gateway.respond = [](int, unsigned long, void* arg) {
    static_cast<uapi::RetrieveSession*>(arg)->fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
  };
  auto dev = open_device();
  std::string name(63, 'n');
  ASSERT_TRUE(dev->retrieve_session(name));
  const auto& c = gateway.calls[0];
  EXPECT_EQ(c.request, 0xBA01u);
  EXPECT_EQ(c.bytes[8 + 62], 'n');
  EXPECT_EQ(c.bytes[8 + 63], 0);
}

TEST_F(KernelLuoTest, NamesOutsideTheRulesNeverReachTheKernel) {
  auto dev = open_device();
  for (std::string bad : {std::string(), std::string(64, 'x'), std::string("a\0b", 3)}) {
    auto s = dev->create_session(bad);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().kind, ErrorKind::kInvalidInput) << s.error().message();
  }
  EXPECT_TRUE(gateway.calls.empty());
}

TEST_F(KernelLuoTest, PreserveAndRetrieveFdPutTheTokenAtOffsetEight) {
  auto session = opener->adopt_session(SessionFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), "s");
  gateway.respond = [](int, unsigned long req, void* arg) {
    if (req == uapi::kSessionRetrieveFd)
      static_cast<uapi::SessionRetrieveFd*>(arg)->fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
  };
  ASSERT_TRUE(session->preserve_fd(7, 0x1122334455667788ull));
  ASSERT_TRUE(session->retrieve_fd(42));
  const auto& p = gateway.calls[0];
  EXPECT_EQ(p.request, 0xBA40u);
  EXPECT_EQ(p.fd, session->fd());
  EXPECT_EQ(read_at<std::uint32_t>(p.bytes, 0), 16u);
  EXPECT_EQ(read_at<std::int32_t>(p.bytes, 4), 7);
  EXPECT_EQ(read_at<std::uint64_t>(p.bytes, 8), 0x1122334455667788ull);
  const auto& r = gateway.calls[1];
  EXPECT_EQ(r.request, 0xBA41u);
  EXPECT_EQ(read_at<std::uint32_t>(r.bytes, 0), 16u);
  EXPECT_EQ(read_at<std::uint64_t>(r.bytes, 8), 42u);
}

TEST_F(KernelLuoTest, FinishSendsSizeEightAndZeroReserved) {
  auto session = opener->adopt_session(SessionFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), "s");
  ASSERT_TRUE(session->finish());
  const auto& f = gateway.calls[0];
  EXPECT_EQ(f.request, 0xBA42u);
  EXPECT_EQ(read_at<std::uint32_t>(f.bytes, 0), 8u);
  EXPECT_EQ(read_at<std::uint32_t>(f.bytes, 4), 0u);
}

TEST_F(KernelLuoTest, GetNameReadsTheNameBackAndTreatsEinvalAsAbsent) {
  auto session = opener->adopt_session(SessionFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), "s");
  gateway.respond = [](int, unsigned long, void* arg) {
    std::memcpy(static_cast<uapi::SessionGetName*>(arg)->name, "abc", 4);
    return 0;
  };
  auto name = session->get_name();
  ASSERT_TRUE(name && *name) << (name ? "absent" : name.error().message());
  EXPECT_EQ(**name, "abc");
  EXPECT_EQ(gateway.calls[0].request, 0xBA43u);
  EXPECT_EQ(read_at<std::uint32_t>(gateway.calls[0].bytes, 0), 72u);
  gateway.respond = [](int, unsigned long, void*) { return EINVAL; };  // 6.19
  auto absent = session->get_name();
  ASSERT_TRUE(absent) << absent.error().message();
  EXPECT_FALSE(absent->has_value());
}

TEST_F(KernelLuoTest, ErrnosBecomeTypedErrorsWithADiagnosis) {
  auto session = opener->adopt_session(SessionFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)), "sess");
  gateway.respond = [](int, unsigned long, void*) { return EEXIST; };
  auto e = session->preserve_fd(3, 9);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().err, EEXIST);
  EXPECT_EQ(e.error().op, "LIVEUPDATE_SESSION_PRESERVE_FD");
  EXPECT_NE(e.error().message().find("token 9"), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().hint.find("already used"), std::string::npos) << e.error().hint;
  gateway.respond = [](int, unsigned long, void*) { return EBUSY; };
  auto f = session->finish();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().kind, ErrorKind::kBusy);
}

TEST(KernelLuoOpen, MissingDeviceMeansLuoIsNotEnabled) {
  RecordingIoctl gateway;
  auto opener = make_kernel_opener(gateway, "/nonexistent/liveupdate");
  auto dev = opener->open();
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(dev.error().err, ENOENT);
  EXPECT_NE(dev.error().hint.find("liveupdate=on"), std::string::npos) << dev.error().message();
}

}  // namespace
}  // namespace lu::luo
