#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_code.h"

using namespace lu::cli;

int main(int argc, char** argv) {
  CLI::App app{
      "lu-test: live-update continuity tests that span a kexec.\n"
      "A pre stage arms state and hands fds to LUO, the machine kexecs, a post stage retrieves them and\n"
      "checks what survived. Typical use:\n"
      "  lu-test cycle                                  # whole cycle on the simulated machine\n"
      "  lu-test stage pre --device 0000:6a:01.0 && kexec -e   # then `lu-test stage post` at boot\n"
      "Exit codes: 0 pass, 1 fail, 2 error, 3 skip; 64 usage, 65 corrupt state, 66 nothing armed,\n"
      "67 state from another schema, 68 not found, 69 capability missing, 71 system error, 73 busy,\n"
      "75 kexec refused, 76 stage mismatch."};
  app.require_subcommand(1);
  Global g;
  std::string backend_arg;  // resolved after parsing: each command has its own default
  auto add_global = [&](CLI::App* cmd, const std::string& default_backend) {
    cmd->add_option("--backend", backend_arg,
                    "kernel: this machine's kernel; sim: the simulated machine (default: " + default_backend + ")")
        ->check(CLI::IsMember({"kernel", "sim"}));
    cmd->add_option("--run-dir", g.run_dir, "sockets and logs (kernel: /run/lu-test; sim: $XDG_RUNTIME_DIR/lu-test-sim)");
    cmd->add_option("--state-dir", g.state_dir,
                    "persistent state and the KTAP log (kernel: /var/lib/lu-test; sim: RUN_DIR/disk)");
  };
  auto add_sim = [&](CLI::App* cmd) {
    cmd->add_option("--sim-kernel-profile", g.sim_kernel_profile,
                    "what the simulated kernel preserves, when lu-test starts it (none, memfd, vfio-base, vfio-full)")
        ->capture_default_str();
    cmd->add_option("--fault", g.faults, "arm a simulated-machine fault (repeatable; `lu-test list` shows them)");
  };
  auto add_json = [&](CLI::App* cmd) { cmd->add_flag("--json", g.json, "machine-readable output"); };

  PreArgs pre;
  auto add_pre = [&](CLI::App* cmd) {
    cmd->add_option("--profile", pre.profile,
                    "what the kernel under test claims to preserve: none, memfd, vfio-base, vfio-full, auto")
        ->capture_default_str();
    cmd->add_option("--device", pre.devices, "a VFIO PCI device by BDF, e.g. 0000:00:04.0 (bound to vfio-pci: scripts/lu-test-bind-vfio BDF)");
    cmd->add_option("--kernel", pre.kernel, "kernel to kexec into (default /boot/vmlinuz-$(uname -r))");
    cmd->add_option("--initrd", pre.initrd, "initrd for it (default /boot/initrd.img-$(uname -r) if present)");
    cmd->add_option("--append", pre.append, "its command line (default: the current one); the nonce is added");
  };

  auto* probe = app.add_subcommand("probe", "Report what this machine can preserve and which profile `auto` picks");
  add_global(probe, "kernel");
  add_json(probe);

  auto* stage = app.add_subcommand("stage", "Run one stage of a cycle");
  stage->require_subcommand(1);
  auto* stage_pre = stage->add_subcommand("pre", "Arm a run: preserve state through LUO, arm the kexec, start the holder");
  add_global(stage_pre, "kernel");
  add_sim(stage_pre);
  add_pre(stage_pre);
  std::string expect_nonce;
  auto* stage_post = stage->add_subcommand("post", "After the kexec: retrieve, check, FINISH, write the verdict");
  add_global(stage_post, "kernel");
  stage_post->add_option("--expect-nonce", expect_nonce,
                         "judge the boot against this nonce instead of the stored one (proves the nonce check fails)");

  auto* kexec = app.add_subcommand("kexec", "Ask the holder to perform the armed kexec (the fds are alive at the syscall)");
  add_global(kexec, "kernel");
  auto* status = app.add_subcommand("status", "Show the holder: what it holds, for which run");
  add_global(status, "kernel");
  add_json(status);
  auto* cancel = app.add_subcommand("cancel", "Release everything the holder keeps and unload the armed kernel");
  add_global(cancel, "kernel");

  auto* state = app.add_subcommand("state", "Inspect lu-test's stored state");
  state->require_subcommand(1);
  std::string state_file;
  auto* state_show = state->add_subcommand("show", "Print the armed (or last) run's state");
  add_global(state_show, "kernel");
  add_json(state_show);
  state_show->add_option("--file", state_file, "a state file to read instead of the state directory's");

  auto* list = app.add_subcommand("list", "List scenarios, checks, profiles and simulated faults");
  add_json(list);

  std::string report_ktap, report_junit;
  auto* report = app.add_subcommand("report", "Turn the KTAP stream into JUnit XML or JSON (for CI servers and scripts)");
  add_global(report, "kernel");
  add_json(report);
  report->add_option("--ktap", report_ktap, "the KTAP file (default: STATE_DIR/lu-test.ktap)");
  report->add_option("--junit", report_junit, "write JUnit XML here (- for stdout); checks never reported count as MISS");

  bool keep = false;
  auto* cycle = app.add_subcommand("cycle", "pre, kexec and post in one command (sim backend by default)");
  add_global(cycle, "sim");
  add_sim(cycle);
  add_pre(cycle);
  cycle->add_flag("--keep", keep, "keep the simulated machine's run directory afterwards");

  auto* debug = app.add_subcommand("debug", "Break a run on purpose, on any machine (proves the checks can fail)");
  debug->require_subcommand(1);
  auto* debug_flip = debug->add_subcommand(
      "flip-memfd-byte", "Between pre and kexec: flip one byte of a preserved memfd (memfd.content must fail)");
  add_global(debug_flip, "kernel");

  auto* sim = app.add_subcommand("sim", "Control the simulated machine");
  sim->require_subcommand(1);
  auto* sim_start = sim->add_subcommand("start", "Start a simulated machine in the background");
  add_global(sim_start, "sim");
  add_sim(sim_start);
  auto* sim_stop = sim->add_subcommand("stop", "Stop it");
  add_global(sim_stop, "sim");
  auto* sim_fault = sim->add_subcommand("fault", "Arm faults on the running simulated machine");
  add_global(sim_fault, "sim");
  add_sim(sim_fault);
  auto* sim_kexec = sim->add_subcommand("kexec-e", "What `kexec -e` typed by the user does, on the simulated machine");
  add_global(sim_kexec, "sim");
  int idle_exit = 900, ready_fd = -1;
  auto* sim_serve = sim->add_subcommand("serve", "Run the simulated machine in the foreground (lu-test starts it for you)");
  add_global(sim_serve, "sim");
  add_sim(sim_serve);
  sim_serve->add_option("--idle-exit", idle_exit, "exit after this many idle seconds")->capture_default_str();
  sim_serve->add_option("--ready-fd", ready_fd, "write one byte here once listening");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (backend_arg.empty()) backend_arg = (*cycle || *sim) ? "sim" : "kernel";
  g.backend = *lu::parse_backend(backend_arg);  // CLI11 allowed only the two names
  if (*probe) return cmd_probe(g);
  if (*stage_pre) return cmd_stage_pre(g, pre);
  if (*stage_post) return cmd_stage_post(g, expect_nonce);
  if (*kexec) return cmd_kexec(g);
  if (*status) return cmd_status(g);
  if (*cancel) return cmd_cancel(g);
  if (*state_show) return cmd_state_show(g, state_file);
  if (*list) return cmd_list(g);
  if (*cycle) return cmd_cycle(g, pre, keep);
  if (*report) return cmd_report(g, report_ktap, report_junit);
  if (*debug_flip) return cmd_debug_flip_memfd_byte(g);
  if (*sim_start) return cmd_sim_start(g);
  if (*sim_stop) return cmd_sim_stop(g);
  if (*sim_fault) return cmd_sim_fault(g);
  if (*sim_kexec) return cmd_sim_kexec(g);
  if (*sim_serve) return cmd_sim_serve(g, idle_exit, ready_fd);
  return kExitUsage;
}
