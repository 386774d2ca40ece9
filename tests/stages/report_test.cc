// JUnit and JSON come from the KTAP stream: statuses, reasons, properties, and MISS for
// planned checks that never reported.
#include <gtest/gtest.h>

#include "stages/report.h"

namespace lu::stages {
namespace {

const char* kStream =
    "KTAP version 1\n"
    "1..4\n"
    "# lu-test run abcd iteration 2 nonce 1234 backend sim profile vfio-base\n"
    "# pre: kernel 7.3.4 boot_id b-1\n"
    "# post: kernel 7.3.4 boot_id b-2 state from LUO\n"
    "ok 1 kexec.nonce\n"
    "# kexec.nonce: expected=1234\n"
    "not ok 2 memfd.content\n"
    "# memfd.content: token 1 <digest> & more\n"
    "ok 3 device.bus-master # XFAIL expected under profile vfio-base\n"
    "ok 4 sessions.get-name # SKIP no GET_NAME\n"
    "# lu-test verdict: FAIL\n";

TEST(KtapReport, ParsesStatusesReasonsDiagnosticsAndProperties) {
  auto r = parse_ktap(kStream);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->planned, 4u);
  ASSERT_EQ(r->results.size(), 4u);
  EXPECT_EQ(r->results[1].status, "fail");
  EXPECT_EQ(r->results[2].status, "xfail");
  EXPECT_EQ(r->results[2].reason, "expected under profile vfio-base");
  EXPECT_EQ(r->results[3].status, "skip");
  EXPECT_EQ(r->results[0].diagnostics.at(0), "expected=1234");
  EXPECT_EQ(r->verdict, "FAIL");
  bool nonce = false, post_boot = false;
  for (auto& [k, v] : r->properties) {
    nonce |= k == "nonce" && v == "1234";
    post_boot |= k == "post_boot_id" && v == "b-2";
  }
  EXPECT_TRUE(nonce && post_boot);
}

TEST(KtapReport, JunitCountsFailuresSkipsAndEscapesText) {
  auto xml = to_junit(*parse_ktap(kStream));
  EXPECT_NE(xml.find("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<property name=\"nonce\" value=\"1234\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("&lt;digest&gt; &amp; more"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<digest>"), std::string::npos) << "unescaped text in XML";
}

TEST(KtapReport, PlannedChecksWithoutAResultAreMissErrors) {
  auto r = parse_ktap("KTAP version 1\n1..3\nok 1 kexec.nonce\n");
  ASSERT_TRUE(r);
  auto xml = to_junit(*r);
  EXPECT_NE(xml.find("errors=\"2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("MISS"), std::string::npos) << xml;
  EXPECT_NE(to_json(*r).find("\"verdict\": \"MISS\""), std::string::npos);
}

TEST(KtapReport, TextThatIsNotKtapIsRefused) {
  auto r = parse_ktap("hello\nworld\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCorruptState);
}

}  // namespace
}  // namespace lu::stages
