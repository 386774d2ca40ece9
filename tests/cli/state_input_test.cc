// Bad state files get a clear error and a distinct exit code, and are never deleted.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "base/files.h"
#include "state/codec.h"
#include "tests/support/cli_runner.h"

namespace lu::testing {
namespace {

std::string write(const std::string& dir, const std::string& name, const std::vector<std::uint8_t>& bytes) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

std::vector<std::uint8_t> good_state() {
  state::RunState s;
  s.run_id = "abcd";
  s.nonce = "1234";
  return state::encode(s);
}

TEST(StateShow, PrintsAGoodStateAsTextAndJson) {
  SimMachineDir m;
  auto path = write(m.dir(), "good.bin", good_state());
  auto text = SimMachineDir::run({"state", "show", "--file", path});
  EXPECT_EQ(text.code, 0) << text.output;
  EXPECT_NE(text.output.find("nonce          1234"), std::string::npos) << text.output;
  auto json = SimMachineDir::run({"state", "show", "--json", "--file", path});
  EXPECT_EQ(json.code, 0);
  EXPECT_NE(json.output.find("\"nonce\": \"1234\""), std::string::npos) << json.output;
}

TEST(StateShow, TruncatedCorruptHostileAndForeignFilesExit65) {
  SimMachineDir m;
  auto good = good_state();
  auto truncated = std::vector<std::uint8_t>(good.begin(), good.begin() + good.size() / 2);
  auto flipped = good;
  // Index, not back(): g++ 12 -O3 sees a possibly-empty vector and warns (-Wstringop-overflow).
  if (!flipped.empty()) flipped[flipped.size() - 1] ^= 0xff;
  std::vector<std::uint8_t> foreign(100, 'x');
  for (auto& [name, bytes] : std::vector<std::pair<std::string, std::vector<std::uint8_t>>>{
           {"truncated", truncated}, {"flipped", flipped}, {"foreign", foreign}, {"empty", {}}}) {
    auto path = write(m.dir(), name, bytes);
    auto r = SimMachineDir::run({"state", "show", "--file", path});
    EXPECT_EQ(r.code, 65) << name << ": " << r.output;
    EXPECT_NE(r.output.find("lu-test: error:"), std::string::npos) << r.output;
    EXPECT_TRUE(path_exists(path)) << "a bad state file is evidence: never delete it";
  }
}

TEST(StateShow, OtherSchemaVersionExits67) {
  SimMachineDir m;
  auto bytes = good_state();
  std::uint32_t v = 99;
  std::memcpy(bytes.data() + 8, &v, 4);
  auto r = SimMachineDir::run({"state", "show", "--file", write(m.dir(), "v99", bytes)});
  EXPECT_EQ(r.code, 67) << r.output;
  EXPECT_NE(r.output.find("schema 99"), std::string::npos) << r.output;
}

TEST(StateShow, MissingStateExits66) {
  auto r = SimMachineDir::run({"state", "show", "--file", "/nonexistent/state.bin"});
  EXPECT_EQ(r.code, 66) << r.output;
}

TEST(StagePost, CorruptStateFileOnDiskIsReportedNotCrashed) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"sim", "start", "--fault", "holder-killed"}).code, 0);
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  ASSERT_EQ(m.sim({"sim", "kexec-e"}).code, 0);
  // The LUO copy is gone (holder killed); now damage the file copy too.
  write(m.dir() + "/disk", "state.bin", {'L', 'U', 'T', 'E', 'S', 'T', 'S', 'T', 1, 0});
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 65) << post.output;
  EXPECT_TRUE(path_exists(m.dir() + "/disk/state.bin"));
}

TEST(Cli, UnknownBackendAndProfileAreUsageErrors) {
  EXPECT_EQ(SimMachineDir::run({"stage", "pre", "--backend", "qemu"}).code, 64);
  EXPECT_EQ(SimMachineDir::run({"cycle", "--profile", "everything"}).code, 64);
}

TEST(Cli, KernelBackendWithoutLuoIsReportedAsUnavailableByProbe) {
  // This host's kernel has no LUO: probe says so instead of failing.
  auto r = SimMachineDir::run({"probe", "--backend", "kernel", "--json"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("\"auto_profile\""), std::string::npos) << r.output;
}

TEST(Cli, ListShowsEveryCheckAndFault) {
  auto r = SimMachineDir::run({"list"});
  EXPECT_EQ(r.code, 0);
  for (auto* needle : {"kexec.nonce", "memfd.content", "finish.order", "holder-killed", "firmware-reboot"})
    EXPECT_NE(r.output.find(needle), std::string::npos) << needle;
}

}  // namespace
}  // namespace lu::testing
