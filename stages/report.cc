#include "stages/report.h"

#include <nlohmann/json.hpp>
#include <cstring>
#include <sstream>

namespace lu::stages {
namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters even escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

// "lu-test run R iteration I nonce N backend B profile P" and "pre: kernel K boot_id B" lines.
void take_properties(const std::string& line, KtapReport& report) {
  std::istringstream in(line);
  std::string word, key;
  std::vector<std::string> words;
  while (in >> word) words.push_back(word);
  auto pairs = [&](std::size_t from, const std::string& prefix) {
    for (std::size_t i = from; i + 1 < words.size(); i += 2) report.properties.push_back({prefix + words[i], words[i + 1]});
  };
  if (words.size() >= 3 && words[0] == "lu-test" && words[1] == "run") {
    report.properties.push_back({"run", words[2]});
    pairs(3, "");
  } else if (!words.empty() && (words[0] == "pre:" || words[0] == "post:") && words.size() >= 5 && words[1] == "kernel") {
    std::string stage = words[0].substr(0, words[0].size() - 1);
    report.properties.push_back({stage + "_kernel", words[2]});
    report.properties.push_back({stage + "_boot_id", words[4]});
  }
}

}  // namespace

Result<KtapReport> parse_ktap(const std::string& text) {
  KtapReport report;
  std::istringstream in(text);
  std::string line;
  bool header = false;
  while (std::getline(in, line)) {
    if (line.rfind("KTAP version", 0) == 0) {
      header = true;
    } else if (line.rfind("1..", 0) == 0) {
      report.planned = static_cast<std::uint32_t>(std::strtoul(line.c_str() + 3, nullptr, 10));
    } else if (line.rfind("ok ", 0) == 0 || line.rfind("not ok ", 0) == 0) {
      bool ok = line[0] == 'o';
      std::string rest = line.substr(ok ? 3 : 7);
      KtapResult r;
      char* end = nullptr;
      r.number = static_cast<std::uint32_t>(std::strtoul(rest.c_str(), &end, 10));
      rest = end && *end == ' ' ? std::string(end + 1) : rest;
      auto hash = rest.find(" # ");
      r.name = rest.substr(0, hash);
      std::string directive = hash == std::string::npos ? "" : rest.substr(hash + 3);
      r.status = ok ? "pass" : "fail";
      for (auto [prefix, status] : {std::pair{"SKIP", "skip"}, {"XFAIL", "xfail"}, {"ERROR", "error"}})
        if (directive.rfind(prefix, 0) == 0) {
          r.status = status;
          r.reason = directive.size() > std::strlen(prefix) + 1 ? directive.substr(std::strlen(prefix) + 1) : "";
        }
      report.results.push_back(std::move(r));
    } else if (line.rfind("# ", 0) == 0) {
      std::string body = line.substr(2);
      if (body.rfind("lu-test verdict: ", 0) == 0) {
        report.verdict = body.substr(17);
      } else if (!report.results.empty() && body.rfind(report.results.back().name + ": ", 0) == 0) {
        report.results.back().diagnostics.push_back(body.substr(report.results.back().name.size() + 2));
      } else {
        take_properties(body, report);
      }
    }
  }
  if (!header)
    return fail(ErrorKind::kCorruptState, "parse KTAP", "", "no `KTAP version` line: this is not a KTAP stream");
  return report;
}

std::string to_junit(const KtapReport& report) {
  std::size_t failures = 0, errors = 0, skipped = 0;
  for (auto& r : report.results) {
    failures += r.status == "fail";
    errors += r.status == "error";
    skipped += r.status == "skip";
  }
  // Planned checks with no result yet (post stage never ran) are errors: MISS, not silence.
  std::size_t missing = report.planned > report.results.size() ? report.planned - report.results.size() : 0;
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites>\n<testsuite name=\"lu-test\" tests=\"" << report.results.size() + missing << "\" failures=\""
    << failures << "\" errors=\"" << errors + missing << "\" skipped=\"" << skipped << "\">\n  <properties>\n";
  for (auto& [k, v] : report.properties)
    x << "    <property name=\"" << xml_escape(k) << "\" value=\"" << xml_escape(v) << "\"/>\n";
  x << "  </properties>\n";
  for (auto& r : report.results) {
    std::string klass = r.name.substr(0, r.name.find('.'));
    x << "  <testcase classname=\"lu-test." << xml_escape(klass) << "\" name=\"" << xml_escape(r.name) << "\">\n";
    if (r.status == "fail") x << "    <failure message=\"" << xml_escape(r.reason) << "\"/>\n";
    if (r.status == "error") x << "    <error message=\"" << xml_escape(r.reason) << "\"/>\n";
    if (r.status == "skip") x << "    <skipped message=\"" << xml_escape(r.reason) << "\"/>\n";
    if (!r.diagnostics.empty() || r.status == "xfail") {
      x << "    <system-out>";
      if (r.status == "xfail") x << xml_escape("XFAIL " + r.reason) << "\n";
      for (auto& d : r.diagnostics) x << xml_escape(d) << "\n";
      x << "</system-out>\n";
    }
    x << "  </testcase>\n";
  }
  for (std::size_t i = 0; i < missing; ++i)
    x << "  <testcase classname=\"lu-test\" name=\"planned-check-" << report.results.size() + i + 1
      << "\">\n    <error message=\"MISS: the post stage never reported this check\"/>\n  </testcase>\n";
  x << "</testsuite>\n</testsuites>\n";
  return x.str();
}

std::string to_json(const KtapReport& report) {
  nlohmann::json j;
  j["planned"] = report.planned;
  j["verdict"] = report.verdict.empty() ? "MISS" : report.verdict;
  for (auto& [k, v] : report.properties) j["properties"][k] = v;
  j["results"] = nlohmann::json::array();
  for (auto& r : report.results)
    j["results"].push_back({{"number", r.number}, {"name", r.name}, {"status", r.status}, {"reason", r.reason},
                            {"diagnostics", r.diagnostics}});
  return j.dump(2) + "\n";
}

}  // namespace lu::stages
