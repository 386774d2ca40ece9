// The simulated kernel follows LUO's rules and errno table (reference/luo.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/memfd.h"
#include "sim/luo_model.h"

namespace lu::sim {
namespace {

struct Memfd {
  UniqueFd fd;
  FileIdentity id;
};

Memfd memfd(std::uint8_t fill = 0xab) {
  std::vector<std::uint8_t> bytes(128, fill);
  auto fd = create_memfd("t", bytes);
  struct stat st {};
  ::fstat(fd->get(), &st);
  return {UniqueFd(fd->release()), {"memfd", "", static_cast<std::uint64_t>(st.st_ino), true}};
}

int err_of(const Status& s) { return s ? 0 : s.error().err; }
template <class T>
int err_of(const Result<T>& r) {
  return r ? 0 : r.error().err;
}

auto no_device = [](const std::string&) -> Result<UniqueFd> {
  return fail(ErrorKind::kNotFound, "open", "", "");
};
auto ready = [](const std::string&) { return true; };

TEST(SimLuoModel, DisabledKernelFailsOpenWithEnoent) { EXPECT_EQ(LuoModel(false).open_error(), ENOENT); }

TEST(SimLuoModel, SessionNamesFollowTheKernelRules) {
  LuoModel luo(true);
  EXPECT_EQ(err_of(luo.create_session("")), EINVAL);
  EXPECT_EQ(err_of(luo.create_session(std::string(64, 'x'))), EINVAL);
  EXPECT_EQ(err_of(luo.create_session(std::string(63, 'x'))), 0);
  EXPECT_EQ(err_of(luo.create_session("a")), 0);
  EXPECT_EQ(err_of(luo.create_session("a")), EEXIST);
}

TEST(SimLuoModel, PreserveRulesGiveTheKernelsErrnos) {
  LuoModel luo(true);
  auto a = *luo.create_session("a");
  auto b = *luo.create_session("b");
  auto m = memfd();
  int dup1 = ::dup(m.fd.get()), dup2 = ::dup(m.fd.get());
  EXPECT_EQ(err_of(luo.preserve_fd(a, UniqueFd(dup1), m.id, 1)), 0);
  EXPECT_EQ(err_of(luo.preserve_fd(b, UniqueFd(dup2), m.id, 1)), EBUSY) << "same file in two sessions";
  auto m2 = memfd();
  EXPECT_EQ(err_of(luo.preserve_fd(a, std::move(m2.fd), m2.id, 1)), EEXIST) << "token reused";
  UniqueFd devnull(::open("/dev/null", O_RDONLY));
  EXPECT_EQ(err_of(luo.preserve_fd(a, std::move(devnull), FileIdentity{}, 2)), ENOENT) << "no handler";
}

TEST(SimLuoModel, ClosingAnOutgoingSessionUnpreservesIt) {
  LuoModel luo(true);
  auto a = *luo.create_session("a");
  auto m = memfd();
  ASSERT_TRUE(luo.preserve_fd(a, std::move(m.fd), m.id, 1));
  luo.close_session(a);
  auto next = LuoModel::boot(true, luo.freeze());
  EXPECT_EQ(err_of(next.retrieve_session("a")), ENOENT);
}

TEST(SimLuoModel, HandoverKeepsContentAndRetrieveRulesHold) {
  LuoModel luo(true);
  auto a = *luo.create_session("a");
  auto m = memfd(0x5a);
  ASSERT_TRUE(luo.preserve_fd(a, std::move(m.fd), m.id, 7));
  auto next = LuoModel::boot(true, luo.freeze());
  auto in = next.retrieve_session("a");
  ASSERT_TRUE(in);
  EXPECT_EQ(err_of(next.retrieve_session("a")), EINVAL) << "retrieved twice";
  EXPECT_EQ(err_of(next.retrieve_fd(*in, 8, no_device)), ENOENT) << "unknown token";
  auto fd = next.retrieve_fd(*in, 7, no_device);
  ASSERT_TRUE(fd);
  auto bytes = read_whole_fd(fd->get());
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 128u);
  EXPECT_EQ((*bytes)[0], 0x5a);
  EXPECT_EQ(err_of(next.finish(*in, ready)), 0);
  next.close_session(*in);
  EXPECT_EQ(err_of(next.retrieve_session("a")), ENOENT) << "finished sessions are gone";
}

TEST(SimLuoModel, FinishOnAnOutgoingSessionIsInvalid) {
  LuoModel luo(true);
  auto a = *luo.create_session("a");
  EXPECT_EQ(err_of(luo.finish(a, ready)), EINVAL);
}

TEST(SimLuoModel, GarbledHandoverMakesEveryOpenFailWithEio) {
  Handover bad;
  bad.blob = {1, 2, 3};
  EXPECT_EQ(LuoModel::boot(true, std::move(bad)).open_error(), EIO);
}

}  // namespace
}  // namespace lu::sim
