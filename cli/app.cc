#include "cli/app.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli/exit_code.h"

namespace lu::cli {
namespace {
std::string default_sim_dir() {
  if (const char* d = std::getenv("LU_TEST_SIM_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/lu-test-sim";
  return "/tmp/lu-test-sim-" + std::to_string(::getuid());
}
}  // namespace

void add_global(Cli& cli, CLI::App* cmd, Backend fallback) {
  cmd->add_option("--backend", cli.backend_arg,
                  std::string("kernel: this machine's kernel; sim: the simulated machine (default: ") +
                      backend_name(fallback) + ")")
      ->check(CLI::IsMember({"kernel", "sim"}));
  cmd->add_option("--run-dir", cli.g.run_dir, "sockets and logs (kernel: /run/lu-test; sim: $XDG_RUNTIME_DIR/lu-test-sim)");
  cmd->add_option("--state-dir", cli.g.state_dir,
                  "persistent state and the KTAP records (kernel: /var/lib/lu-test; sim: RUN_DIR/disk)");
}

void add_sim_options(Cli& cli, CLI::App* cmd) {
  cmd->add_option("--sim-kernel-profile", cli.g.sim_kernel_profile,
                  "what the simulated kernel preserves, when lu-test starts it (none, memfd, vfio-base, vfio-full)")
      ->capture_default_str();
  cmd->add_option("--fault", cli.g.faults, "arm a simulated-machine fault (repeatable; `lu-test list` shows them)");
}

void add_json(Cli& cli, CLI::App* cmd) { cmd->add_flag("--json", cli.g.json, "machine-readable output (errors too)"); }

void on_run(Cli& cli, CLI::App* cmd, Backend fallback, std::function<int(const Global&)> run) {
  cmd->callback([&cli, fallback, run = std::move(run)] {
    cli.g.backend = cli.backend_arg.empty() ? fallback : parse_backend(cli.backend_arg).value_or(fallback);
    cli.action = [&cli, run] { return run(cli.g); };
  });
}

bool is_sim(const Global& g) { return g.backend == Backend::kSim; }

stages::Paths paths_for(const Global& g) {
  stages::Paths p;
  if (is_sim(g)) {
    p.run_dir = g.run_dir.empty() ? default_sim_dir() : g.run_dir;
    // The simulated machine's "disk": survives its kexec and its firmware reboots.
    p.state_dir = g.state_dir.empty() ? p.run_dir + "/disk" : g.state_dir;
  } else {
    p.run_dir = g.run_dir.empty() ? "/run/lu-test" : g.run_dir;
    p.state_dir = g.state_dir.empty() ? "/var/lib/lu-test" : g.state_dir;
  }
  return p;
}

Result<sim::SimOptions> sim_options(const Global& g, bool autostart) {
  sim::SimOptions o;
  o.run_dir = paths_for(g).run_dir;
  auto profile = sim::parse_kernel_profile(g.sim_kernel_profile);
  if (!profile)
    return fail(ErrorKind::kInvalidInput, "--sim-kernel-profile", g.sim_kernel_profile,
                "choose one of none, memfd, vfio-base, vfio-full");
  o.profile = *profile;
  for (auto& name : g.faults) {
    auto f = sim::parse_fault(name);
    if (!f) return fail(ErrorKind::kInvalidInput, "--fault", name, "unknown fault; `lu-test list` shows the fault table");
    o.faults.insert(*f);
  }
  o.autostart = autostart;
  return o;
}

Result<std::unique_ptr<Machine>> connect_machine(const Global& g, bool autostart) {
  if (!is_sim(g)) return make_kernel_machine();
  auto o = LU_TRY(sim_options(g, autostart));
  return sim::connect(o);
}

Status apply_faults(const Global& g) {
  if (g.faults.empty()) return {};
  if (!is_sim(g))
    return fail(ErrorKind::kInvalidInput, "--fault", g.faults[0], "faults exist only on the simulated machine (--backend sim)");
  auto o = LU_TRY(sim_options(g, false));
  for (auto f : o.faults) LU_TRY_VOID(sim::add_fault(o.run_dir, f));
  return {};
}

int report_error(const Global& g, const Error& e) {
  int code = exit_code_for(e.kind);
  std::fprintf(stderr, "lu-test: error: %s\n", e.message().c_str());
  if (g.json)
    print_json({{"schema", "lu-test.error/1"},
                {"error", {{"kind", error_kind_name(e.kind)}, {"op", e.op}, {"errno", e.err}, {"subject", e.subject},
                           {"hint", e.hint}, {"message", e.message()}}},
                {"exit_code", code}});
  return code;
}

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
}

std::string iso_time(std::int64_t ns) {
  if (ns <= 0) return "-";
  time_t t = static_cast<time_t>(ns / 1000000000);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace lu::cli
