// Verdicts a lab can trust unattended (issue 7) and a post stage that never loses or falsifies a
// result (issue 12): each test is one measured finding, on the simulated machine, through the
// real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace lu::testing {
namespace {

using json = nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The record of iteration 1 (records/ holds one file per iteration).
std::string read_link_target(const std::string& disk) {
  for (auto& e : std::filesystem::directory_iterator(disk + "/records"))
    if (e.path().extension() == ".ktap" && e.path().filename().string().rfind("iteration-000001-", 0) == 0)
      return "records/" + e.path().filename().string();
  return {};
}

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, prefix.size(), prefix) == 0) ++n;
    pos = text.find('\n', pos);
    if (pos == std::string::npos) break;
    ++pos;
  }
  return n;
}

TEST(Profiles, ProbeOnTheSimulatedMachineTellsWhatItsKernelPreserves) {
  for (auto [kernel, device, profile] : {std::tuple{"vfio-full", true, "vfio-full"}, {"vfio-base", true, "vfio-base"},
                                         {"memfd", false, "memfd"}, {"none", false, "SKIP"}}) {
    SimMachineDir m;
    ASSERT_EQ(m.sim({"sim", "start", "--sim-kernel-profile", kernel}).code, 0);
    auto r = m.sim({"probe", "--json"});
    ASSERT_EQ(r.code, 0) << r.output;
    auto j = json::parse(r.output);
    EXPECT_EQ(j["device_fd_preservation"], device) << kernel;
    EXPECT_EQ(j["vfio_cdev"], true) << "the simulator serves cdev+iommufd devices";
    EXPECT_EQ(j["auto_profile"], profile) << kernel;
    EXPECT_EQ(j["schema"], "lu-test.probe/1");
  }
}

TEST(Profiles, AutoOnAKernelWithoutLuoIsASkipNeverAPassOfExpectedFailures) {
  SimMachineDir m;
  auto r = m.run_here({"cycle", "--sim-kernel-profile", "none"});
  EXPECT_EQ(r.code, 4) << "kselftest's SKIP: " << r.output;
  EXPECT_TRUE(r.has_line("# lu-test verdict: SKIP")) << r.output;
  EXPECT_EQ(r.output.find("XFAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("LUO is not enabled"), std::string::npos) << "the reason is in the record: " << r.output;
}

TEST(ExitCodes, FollowKselftestAndNeverUseItsXfailAndXpassCodes) {
  auto r = SimMachineDir::run({"list", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::map<int, std::string> codes;
  auto listed = json::parse(r.output);
  for (auto& c : listed["exit_codes"]) codes[c["code"].get<int>()] = c["meaning"].get<std::string>();
  EXPECT_EQ(codes.count(2), 0u) << "2 is kselftest's XFAIL";
  EXPECT_EQ(codes.count(3), 0u) << "3 is kselftest's XPASS";
  EXPECT_NE(codes[4].find("SKIP"), std::string::npos);
  EXPECT_NE(codes[1].find("FAIL"), std::string::npos);
  EXPECT_NE(codes[74], codes[75]) << "not bound to vfio-pci and kexec refused are two codes";
}

TEST(Record, PostOnTheArmingBootWritesNothingAndTheRealPostWritesThePlanOnce) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  const std::string ktap = m.dir() + "/disk/lu-test.ktap";
  auto before = read_file(ktap);
  auto early = m.sim({"stage", "post"});
  EXPECT_EQ(early.code, 76) << early.output;
  EXPECT_NE(early.output.find("still the boot that armed"), std::string::npos) << early.output;
  EXPECT_EQ(read_file(ktap), before) << "a refused post stage must not touch the record";
  ASSERT_EQ(m.sim({"sim", "kexec-e"}).code, 0);
  auto post = m.sim({"stage", "post"});
  EXPECT_EQ(post.code, 0) << post.output;
  auto after = read_file(ktap);
  EXPECT_EQ(count_lines_starting(after, "1.."), 1) << after;
  EXPECT_EQ(count_lines_starting(after, "KTAP version"), 1) << after;
  EXPECT_EQ(count_lines_starting(after, "ok 1 "), 1) << after;
}

TEST(Record, ASecondPostStageAfterOneKexecSaysItAlreadyRan) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  ASSERT_EQ(m.sim({"stage", "post"}).code, 0);
  auto again = m.sim({"stage", "post"});
  EXPECT_EQ(again.code, 78) << again.output;
  EXPECT_NE(again.output.find("already ran"), std::string::npos) << again.output;
}

TEST(Record, ReportAfterACycleReportsThatCycle) {
  SimMachineDir m;
  ASSERT_EQ(m.run_here({"cycle", "--no-devices"}).code, 0);
  auto failing = m.run_here({"cycle", "--no-devices", "--fault", "memfd-byte-flipped"});
  ASSERT_EQ(failing.code, 1) << failing.output;
  ::setenv("LU_TEST_SIM_DIR", m.dir().c_str(), 1);
  auto report = SimMachineDir::run({"report", "--backend", "sim", "--json"});
  ::setenv("LU_TEST_SIM_DIR", PrivateSimHome::dir().c_str(), 1);
  EXPECT_NE(report.output.find("\"verdict\": \"FAIL\""), std::string::npos) << report.output;
}

TEST(Record, CancelRecordsCancelledNotMiss) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  ASSERT_EQ(m.sim({"cancel"}).code, 0);
  auto text = read_file(m.dir() + "/disk/lu-test.ktap");
  EXPECT_NE(text.find("# lu-test verdict: CANCELLED"), std::string::npos) << text;
  EXPECT_NE(text.find("ok 1 kexec.nonce # SKIP cancelled"), std::string::npos) << text;
}

TEST(Record, AnArmedIterationThatNeverGotItsPostStageIsClosedAsMiss) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto first = m.dir() + "/disk/" + std::filesystem::path(read_link_target(m.dir() + "/disk")).string();
  // The holder dies before any kexec; the next pre stage finds the orphaned iteration.
  auto status = json::parse(m.sim({"status", "--json"}).output);
  ASSERT_EQ(::kill(status["holder"]["pid"].get<int>(), SIGKILL), 0);
  for (int i = 0; i < 100 && m.sim({"status"}).code == 0; ++i) ::usleep(20000);
  auto next = m.sim({"stage", "pre"});
  ASSERT_EQ(next.code, 0) << next.output;
  EXPECT_NE(next.output.find("MISS: iteration 1"), std::string::npos) << next.output;
  EXPECT_NE(next.output.find("iteration 2"), std::string::npos) << "numbers never restart: " << next.output;
  auto text = read_file(first);
  EXPECT_NE(text.find("# lu-test verdict: MISS"), std::string::npos) << text;
  EXPECT_EQ(count_lines_starting(text, "# lu-test verdict:"), 1) << text;
}

TEST(Holder, NoHolderOutlivesASuccessfulPostStage) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  ASSERT_EQ(m.sim({"sim", "kexec-e"}).code, 0);  // the user's kexec: the holder is not asked
  ASSERT_EQ(m.sim({"stage", "post"}).code, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i, ::usleep(20000)) gone = m.sim({"status"}).code == 66;
  EXPECT_TRUE(gone) << m.sim({"status"}).output;
}

TEST(Holder, WhenTheHolderDiesStatusAndKexecSayWhatHappenedAndNothingCanKexec) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre"}).code, 0);
  auto status = json::parse(m.sim({"status", "--json"}).output);
  ASSERT_TRUE(status["holder"].is_object());
  ASSERT_EQ(::kill(status["holder"]["pid"].get<int>(), SIGKILL), 0);
  std::string note;
  for (int i = 0; i < 100 && note.empty(); ++i, ::usleep(20000))
    if (std::filesystem::exists(m.dir() + "/holder.died")) note = read_file(m.dir() + "/holder.died");
  ASSERT_FALSE(note.empty()) << "the guardian leaves a note";
  auto st = m.sim({"status"});
  EXPECT_EQ(st.code, 66) << st.output;
  EXPECT_NE(st.output.find("died"), std::string::npos) << st.output;
  auto kexec = m.sim({"kexec"});
  EXPECT_EQ(kexec.code, 66) << kexec.output;
  EXPECT_NE(kexec.output.find("died"), std::string::npos) << kexec.output;
  auto user = m.sim({"sim", "kexec-e"});
  EXPECT_EQ(user.code, 66) << "the armed kernel was unloaded: a bare kexec -e cannot lose the sessions: " << user.output;
}

TEST(PostStage, SigtermWritesErrorResultsForWhatDidNotFinishAndExits72) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"sim", "start", "--fault", "dma-stalled"}).code, 0);
  ASSERT_EQ(m.sim({"stage", "pre", "--device", "0000:00:04.0", "--profile", "vfio-full"}).code, 0);
  ASSERT_EQ(m.sim({"kexec"}).code, 0);
  // A stalled DMA keeps the post stage waiting for seconds: time enough for systemd's SIGTERM.
  auto post = SimMachineDir::exec({"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "1.0", LU_TEST_BINARY,
                                   "stage", "post", "--backend", "sim", "--run-dir", m.dir()});
  EXPECT_EQ(post.code, 72) << post.output;
  auto text = read_file(m.dir() + "/disk/lu-test.ktap");
  EXPECT_NE(text.find("# ERROR not finished: the post stage was stopped by SIGTERM"), std::string::npos) << text;
  EXPECT_NE(text.find("# lu-test verdict: ERROR"), std::string::npos) << text;
  EXPECT_TRUE(text.find("ok 1 kexec.nonce") != std::string::npos) << "what finished before the signal stands";
}

TEST(PreStage, ACorruptStateFileIsKeptAsideAndSaid) {
  SimMachineDir m;
  std::filesystem::create_directories(m.dir() + "/disk");
  std::ofstream(m.dir() + "/disk/state.bin") << "this is not a state";
  auto pre = m.sim({"stage", "pre"});
  ASSERT_EQ(pre.code, 0) << pre.output;
  EXPECT_NE(pre.output.find("kept as"), std::string::npos) << pre.output;
  int kept = 0;
  for (auto& e : std::filesystem::directory_iterator(m.dir() + "/disk"))
    if (e.path().filename().string().rfind("state.corrupt.", 0) == 0) {
      ++kept;
      EXPECT_EQ(read_file(e.path()), "this is not a state");
    }
  EXPECT_EQ(kept, 1);
}

TEST(PreStage, ACommandLineWithoutLiveupdateOnIsWarnedAbout) {
  SimMachineDir m;
  auto pre = m.sim({"stage", "pre", "--append", "console=ttyS0 root=/dev/vda"});
  ASSERT_EQ(pre.code, 0) << pre.output;
  EXPECT_NE(pre.output.find("warning: the armed command line has no liveupdate=on"), std::string::npos) << pre.output;
  EXPECT_NE(pre.output.find("kho=on"), std::string::npos) << pre.output;
  auto text = read_file(m.dir() + "/disk/lu-test.ktap");
  EXPECT_NE(text.find("# pre: warning: the armed command line has no liveupdate=on"), std::string::npos) << text;
}

TEST(Json, StateShowStaysValidJsonWithInvalidUtf8OnTheCommandLine) {
  SimMachineDir m;
  ASSERT_EQ(m.sim({"stage", "pre", "--append", "console=ttyS0 liveupdate=on kho=on x=\xff\xfe"}).code, 0);
  auto r = m.sim({"state", "show", "--json"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NO_THROW({ auto j = json::parse(r.output); (void)j; }) << r.output;
}

TEST(Json, ErrorsUnderJsonAreJsonToo) {
  SimMachineDir m;
  auto r = m.sim({"state", "show", "--json", "--file", m.dir() + "/nothing-here"});
  EXPECT_NE(r.code, 0);
  auto body = r.output.substr(r.output.find('{'));
  auto j = json::parse(body);
  EXPECT_EQ(j["schema"], "lu-test.error/1");
  EXPECT_EQ(j["exit_code"], r.code);
}

TEST(Cli, VersionSaysWhichLuTest) {
  auto r = SimMachineDir::run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output.rfind("lu-test ", 0), 0u) << r.output;
}

}  // namespace
}  // namespace lu::testing
