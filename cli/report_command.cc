// report: JUnit XML or JSON from a KTAP record (for CI servers and scripts).
#include <memory>

#include "base/files.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "stages/report.h"

namespace lu::cli {
namespace {

int report(const Global& g, const std::string& ktap, const std::string& junit) {
  std::string path = ktap.empty() ? paths_for(g).ktap_file() : ktap;
  auto text = read_text_file(path, 16u << 20);
  if (!text) return report_error(g, text.error());
  auto report = stages::parse_ktap(*text);
  if (!report) {
    Error e = report.error();
    e.subject = path;
    return report_error(g, e);
  }
  if (!junit.empty()) {
    auto xml = stages::to_junit(*report);
    if (junit == "-") {
      std::fputs(xml.c_str(), stdout);
    } else if (auto st = write_file_atomic(junit, {xml.begin(), xml.end()}); !st) {
      return report_error(g, st.error());
    }
  }
  if (g.json || junit.empty()) std::fputs(stages::to_json(*report).c_str(), stdout);
  return kExitPass;
}

}  // namespace

void add_report_command(Cli& cli) {
  auto ktap = std::make_shared<std::string>();
  auto junit = std::make_shared<std::string>();
  auto* cmd = cli.app.add_subcommand("report", "Turn a KTAP record into JUnit XML or JSON (for CI servers and scripts)");
  add_global(cli, cmd, Backend::kKernel);
  add_json(cli, cmd);
  cmd->add_option("--ktap", *ktap, "the KTAP record (default: STATE_DIR/lu-test.ktap, the newest)");
  cmd->add_option("--junit", *junit, "write JUnit XML here (- for stdout); checks never reported count as MISS");
  on_run(cli, cmd, Backend::kKernel, [ktap, junit](const Global& g) { return report(g, *ktap, *junit); });
}

}  // namespace lu::cli
