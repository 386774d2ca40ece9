// Reports derived from the durable KTAP stream (the source of truth): JUnit XML for CI servers
// and JSON for scripts. Parsing the file, not in-memory results, means a report can be made on
// any later boot, from whatever the stream holds.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace lu::stages {

struct KtapResult {
  std::uint32_t number = 0;
  std::string name;
  std::string status;  // "pass", "fail", "skip", "xfail", "error"
  std::string reason;  // the directive's text
  std::vector<std::string> diagnostics;  // "# name: ..." lines that follow it
};

struct KtapReport {
  std::uint32_t planned = 0;
  std::vector<std::pair<std::string, std::string>> properties;  // run, iteration, nonce, kernels, boot ids
  std::vector<KtapResult> results;
  std::string verdict;  // from "# lu-test verdict: X", empty while the post stage has not run
};

// Never fails on odd lines (they are kept as-is or ignored); kCorruptState only when the text
// is not KTAP at all.
Result<KtapReport> parse_ktap(const std::string& text);
std::string to_junit(const KtapReport& report);
std::string to_json(const KtapReport& report);

}  // namespace lu::stages
