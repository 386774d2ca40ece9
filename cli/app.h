// What every lu-test command shares: the parsed command line, the backend, the directories, how
// results and errors are printed. Commands register themselves (add_*_commands) into a Cli; the
// chosen subcommand leaves its action behind, and main runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "machine/machine.h"
#include "sim/client.h"
#include "stages/paths.h"

namespace lu::cli {

struct Global {
  Backend backend = Backend::kKernel;  // --backend; each command has its own default
  std::string run_dir;                 // default depends on the backend
  std::string state_dir;               // default depends on the backend
  bool json = false;
  // Simulated machine, when it has to be started.
  std::string sim_kernel_profile = "vfio-full";
  std::vector<std::string> faults;
};

struct Cli {
  explicit Cli(std::string description) : app(std::move(description)) {}
  CLI::App app;
  Global g;
  std::string backend_arg;
  std::function<int()> action;  // what the chosen subcommand does, once parsing succeeded
};

// --backend, --run-dir, --state-dir for `cmd`; `fallback` is its default backend.
void add_global(Cli& cli, CLI::App* cmd, Backend fallback);
void add_sim_options(Cli& cli, CLI::App* cmd);
void add_json(Cli& cli, CLI::App* cmd);
// Runs `run` as this subcommand's action, with the backend resolved to the command's default.
void on_run(Cli& cli, CLI::App* cmd, Backend fallback, std::function<int(const Global&)> run);

bool is_sim(const Global& g);
stages::Paths paths_for(const Global& g);
Result<sim::SimOptions> sim_options(const Global& g, bool autostart);
// autostart: start the simulator when none runs yet (sim backend only).
Result<std::unique_ptr<Machine>> connect_machine(const Global& g, bool autostart);
// Arms the simulator's faults named in g.faults (validated against the fault table).
Status apply_faults(const Global& g);

// Prints an error the same way everywhere (JSON on stdout too under --json) and returns its
// exit code.
int report_error(const Global& g, const Error& e);
// Always valid JSON: invalid UTF-8 in any string (a command line, a file) is replaced, never fatal.
void print_json(const nlohmann::json& j);
std::string iso_time(std::int64_t ns);

}  // namespace lu::cli
