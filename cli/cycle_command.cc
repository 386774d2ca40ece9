// cycle: pre, kexec and post in one command, on a private simulated machine by default. Every
// way the cycle can end reaches a record: a verdict, or ERROR lines naming a refused kexec; no
// holder outlives it, and the record stays where `lu-test report --backend sim` finds it.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/files.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/stage_actions.h"
#include "state/store.h"

namespace lu::cli {
namespace {

struct CycleArgs {
  PreArgs pre;
  bool keep = false;
  bool no_devices = false;
};

// The simulated machine's default device, so the default cycle shows the whole mission.
constexpr const char* kDefaultSimDevice = "0000:00:04.0";

std::string boot_id(const Global& g) {
  auto machine = connect_machine(g, false);
  if (!machine) return {};
  auto facts = (*machine)->boot_facts();
  return facts ? facts->boot_id : std::string();
}

// The kexec did not happen: the run is over all the same, and its record says why.
int give_up(const Global& g, int code, const std::string& why) {
  auto paths = paths_for(g);
  if (stages::holder_status(paths.holder_socket())) (void)stages::holder_cancel(paths.holder_socket());
  if (auto machine = connect_machine(g, false)) (void)(*machine)->kexec().unload();
  if (auto armed = state::FileStore(paths.state_file()).load()) {
    (void)stages::close_armed_iteration(paths, *armed, stages::RunOutcome::kError, stages::Outcome::kError,
                                        "not run: " + why, "state.refused.bin");
    (void)print_file(paths.record_file(armed->iteration, armed->run_id));
  }
  return code;
}

// pre -> kexec through the holder -> post. A holder that dies in the kexec (a fault) is fine
// when the machine did kexec: the post stage then reports what was lost.
int run_cycle(const Global& g, const CycleArgs& a) {
  Global pre_g = g;
  pre_g.faults.clear();  // armed when the machine started
  auto pre = run_pre(pre_g, a.pre, false);
  if (pre.code != kExitPass || pre.skipped) return pre.code;
  std::string before = boot_id(g);
  int rc = run_kexec(g, false);
  if (rc != kExitPass && boot_id(g) == before)
    return give_up(g, rc, "the kexec did not happen (lu-test kexec exited " + std::to_string(rc) + "; see above)");
  return run_post(g, "");
}

// A private machine's record is copied next to the default simulated machine's, so `lu-test
// report --backend sim` reports this cycle and not an older run.
void keep_record(const Global& g) {
  Global shared = g;
  shared.run_dir.clear();
  shared.state_dir.clear();
  auto from = paths_for(g), to = paths_for(shared);
  std::error_code ec;
  auto latest = std::filesystem::canonical(from.ktap_file(), ec);
  if (ec || !make_directories(to.records_dir())) return;
  // Hard links all name the same inode: find which record the newest one is.
  for (auto& entry : std::filesystem::directory_iterator(from.records_dir(), ec)) {
    if (!std::filesystem::equivalent(entry.path(), from.ktap_file(), ec)) continue;
    auto dest = to.records_dir() + "/" + entry.path().filename().string();
    std::filesystem::copy_file(entry.path(), dest, std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec) (void)stages::link_latest(to, dest);
    return;
  }
}

int cycle(Global g, CycleArgs a) {
  std::string temp;
  if (is_sim(g) && g.run_dir.empty()) {
    char tmpl[] = "/tmp/lu-test-cycle-XXXXXX";
    if (!::mkdtemp(tmpl)) return report_error(g, make_error(ErrorKind::kSystem, "mkdtemp", tmpl, "check /tmp", errno));
    temp = g.run_dir = tmpl;
  }
  if (is_sim(g) && a.pre.devices.empty() && !a.no_devices) a.pre.devices = {kDefaultSimDevice};
  if (is_sim(g)) {
    auto o = sim_options(g, false);
    if (!o) return report_error(g, o.error());
    if (auto st = sim::start(*o); !st && st.error().kind != ErrorKind::kBusy) return report_error(g, st.error());
  }
  int rc = run_cycle(g, a);
  if (temp.empty()) return rc;
  keep_record(g);
  auto paths = paths_for(g);
  if (stages::holder_status(paths.holder_socket())) (void)stages::holder_cancel(paths.holder_socket());
  (void)sim::stop(g.run_dir);
  std::error_code ignored;  // a leftover temp dir is not worth failing the verdict for
  if (!a.keep) std::filesystem::remove_all(temp, ignored);
  else std::fprintf(stderr, "lu-test: kept %s\n", temp.c_str());
  return rc;
}

}  // namespace

void add_cycle_command(Cli& cli) {
  auto a = std::make_shared<CycleArgs>();
  auto* cmd = cli.app.add_subcommand(
      "cycle", "pre, kexec and post in one command (on a private simulated machine, with its DMA device, by default)");
  add_global(cli, cmd, Backend::kSim);
  add_sim_options(cli, cmd);
  add_pre_options(cmd, a->pre);
  cmd->add_flag("--no-devices", a->no_devices, "sessions and memfds only: no simulated device");
  cmd->add_flag("--keep", a->keep, "keep the private simulated machine's directory afterwards");
  on_run(cli, cmd, Backend::kSim, [a](const Global& g) {
    Global sim_g = g;
    // The simulated kernel follows an explicit profile; auto meets the strongest kernel.
    if (a->pre.profile != "auto" && sim_g.sim_kernel_profile == "vfio-full" && a->pre.profile != "vfio-pci")
      sim_g.sim_kernel_profile = a->pre.profile;
    return cycle(sim_g, *a);
  });
}

}  // namespace lu::cli
