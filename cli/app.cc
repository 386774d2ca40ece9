#include "cli/app.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/exit_code.h"

namespace lu::cli {
namespace {
std::string default_sim_dir() {
  if (const char* d = std::getenv("LU_TEST_SIM_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/lu-test-sim";
  return "/tmp/lu-test-sim-" + std::to_string(::getuid());
}
}  // namespace

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

int report_error(const Error& e) {
  std::fprintf(stderr, "lu-test: error: %s\n", e.message().c_str());
  return exit_code_for(e.kind);
}

}  // namespace lu::cli
