// lu-test's command line: one group of commands per file under cli/, listed here.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_code.h"

#ifndef LU_TEST_VERSION
#define LU_TEST_VERSION "unknown"
#endif

using namespace lu::cli;

namespace {

std::string description() {
  std::string text =
      "lu-test: live-update continuity tests that span a kexec.\n"
      "A pre stage arms state and hands fds to LUO, the machine kexecs, a post stage retrieves them and\n"
      "checks what survived. Typical use:\n"
      "  lu-test cycle                                          # a whole cycle on the simulated machine\n"
      "  lu-test probe                                          # what this kernel can preserve\n"
      "  lu-test stage pre --device 0000:6a:01.0 && kexec -e    # then `lu-test stage post` at boot\n"
      "  lu-test report --junit results.xml                     # the newest record, for a CI server\n"
      "Exit codes:";
  for (auto& c : exit_code_table()) text += " " + std::to_string(c.code) + (c.code == kExitPass ? " pass," : "");
  return text + " (`lu-test list --exit-codes` says what each means).";
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli(description());
  cli.app.require_subcommand(1);
  cli.app.set_version_flag("--version", std::string("lu-test ") + LU_TEST_VERSION);
  add_probe_command(cli);
  add_stage_commands(cli);
  add_cycle_command(cli);
  add_state_command(cli);
  add_report_command(cli);
  add_list_command(cli);
  add_loop_command(cli);
  add_sim_commands(cli);
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return cli.action ? cli.action() : kExitUsage;
}
