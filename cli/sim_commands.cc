// sim start | stop | fault | kexec-e | serve: the simulated machine.
#include <memory>

#include "base/files.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "sim/server.h"

namespace lu::cli {
namespace {

int sim_start(const Global& g) {
  auto o = sim_options(g, false);
  if (!o) return report_error(g, o.error());
  if (auto st = sim::start(*o); !st) return report_error(g, st.error());
  std::fprintf(stderr, "lu-test: simulated machine (%s kernel) listening at %s\n", g.sim_kernel_profile.c_str(),
               sim::socket_path(o->run_dir).c_str());
  return kExitPass;
}

int sim_stop(const Global& g) {
  if (auto st = sim::stop(paths_for(g).run_dir); !st) return report_error(g, st.error());
  return kExitPass;
}

int sim_fault(const Global& g) {
  if (g.faults.empty())
    return report_error(g, make_error(ErrorKind::kInvalidInput, "sim fault", "", "name at least one --fault"));
  if (auto st = apply_faults(g); !st) return report_error(g, st.error());
  return kExitPass;
}

int sim_kexec(const Global& g) {
  if (auto st = sim::kexec_now(paths_for(g).run_dir); !st) return report_error(g, st.error());
  return kExitPass;
}

int sim_serve(const Global& g, int idle_exit, int ready_fd) {
  auto o = sim_options(g, false);
  if (!o) return report_error(g, o.error());
  if (auto st = make_directories(o->run_dir); !st) return report_error(g, st.error());
  sim::ServerOptions so{sim::socket_path(o->run_dir), o->profile, o->faults, idle_exit};
  if (auto st = sim::serve(so, ready_fd); !st) return report_error(g, st.error());
  return kExitPass;
}

struct ServeArgs {
  int idle_exit = 900, ready_fd = -1;
};

}  // namespace

void add_sim_commands(Cli& cli) {
  auto* sim = cli.app.add_subcommand("sim", "Control the simulated machine");
  sim->require_subcommand(1);
  auto* start = sim->add_subcommand("start", "Start a simulated machine in the background");
  add_global(cli, start, Backend::kSim);
  add_sim_options(cli, start);
  on_run(cli, start, Backend::kSim, sim_start);
  auto* stop = sim->add_subcommand("stop", "Stop it");
  add_global(cli, stop, Backend::kSim);
  on_run(cli, stop, Backend::kSim, sim_stop);
  auto* fault = sim->add_subcommand("fault", "Arm faults on the running simulated machine");
  add_global(cli, fault, Backend::kSim);
  add_sim_options(cli, fault);
  on_run(cli, fault, Backend::kSim, sim_fault);
  auto* kexec = sim->add_subcommand("kexec-e", "What `kexec -e` typed by the user does, on the simulated machine");
  add_global(cli, kexec, Backend::kSim);
  on_run(cli, kexec, Backend::kSim, sim_kexec);
  auto a = std::make_shared<ServeArgs>();
  auto* serve = sim->add_subcommand("serve", "Run the simulated machine in the foreground (lu-test starts it for you)");
  add_global(cli, serve, Backend::kSim);
  add_sim_options(cli, serve);
  serve->add_option("--idle-exit", a->idle_exit, "exit after this many idle seconds")->capture_default_str();
  serve->add_option("--ready-fd", a->ready_fd, "write one byte here once listening");
  on_run(cli, serve, Backend::kSim, [a](const Global& g) { return sim_serve(g, a->idle_exit, a->ready_fd); });
}

}  // namespace lu::cli
