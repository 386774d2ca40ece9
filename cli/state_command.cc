// state show: the armed (or last) run's state, as text or JSON.
#include <memory>

#include "base/files.h"
#include "base/hex.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "state/store.h"

namespace lu::cli {
namespace {

using json = nlohmann::json;

json devices_json(const state::RunState& s) {
  json out = json::array();
  for (auto& d : s.devices)
    out.push_back({{"bdf", d.bdf}, {"driver", d.driver}, {"session", d.session}, {"cdev", d.cdev},
                   {"preserved", d.preserved}, {"not_preservable", d.not_preservable},
                   {"bus_master_before", d.bus_master_before}, {"config_bytes", d.config_before.size()},
                   {"iova", hex(d.iova)}, {"dma_size", d.dma_size}, {"region_size", d.region_size},
                   {"job", {{"copy_size", d.job.copy_size}, {"copies", d.job.copies},
                            {"progress_before", d.job.progress_before}, {"sampled", iso_time(d.job.sampled_ns)}}}});
  return out;
}

json state_json(const std::string& path, const state::RunState& s) {
  json sessions = json::array();
  for (auto& r : s.sessions) {
    json files = json::array();
    for (auto& f : r.files)
      files.push_back({{"token", f.token}, {"kind", f.kind}, {"label", f.label}, {"size", f.size}, {"digest", f.digest}});
    sessions.push_back({{"name", r.name}, {"scenario", r.scenario}, {"files", files}});
  }
  return {{"schema", "lu-test.state/2"}, {"file", path}, {"run_id", s.run_id}, {"iteration", s.iteration},
          {"nonce", s.nonce}, {"backend", s.backend}, {"profile", s.profile}, {"profile_requested", s.profile_requested},
          {"hostname", s.hostname}, {"kernel_release_before", s.kernel_release_before},
          {"boot_id_before", s.boot_id_before}, {"armed_kernel", s.armed_kernel}, {"armed_cmdline", s.armed_cmdline},
          {"pre_started", iso_time(s.pre_started_ns)}, {"pre_finished", iso_time(s.pre_finished_ns)},
          {"planned_checks", s.planned_checks}, {"sessions", sessions}, {"previous_sessions", s.previous_sessions},
          {"devices", devices_json(s)}, {"loop_id", s.loop_id}, {"loop_index", s.loop_index}};
}

void print_text(const std::string& path, const state::RunState& s) {
  std::printf("state file     %s\nrun            %s iteration %u\nnonce          %s\nbackend        %s, profile %s "
              "(requested %s)\nbefore kexec   kernel %s, boot id %s\narmed          %s %s\npre stage      %s .. %s\n",
              path.c_str(), s.run_id.c_str(), s.iteration, s.nonce.c_str(), s.backend.c_str(), s.profile.c_str(),
              s.profile_requested.c_str(), s.kernel_release_before.c_str(), s.boot_id_before.c_str(),
              s.armed_kernel.c_str(), s.armed_cmdline.c_str(), iso_time(s.pre_started_ns).c_str(),
              iso_time(s.pre_finished_ns).c_str());
  std::printf("sessions (%zu):\n", s.sessions.size());
  for (auto& r : s.sessions) {
    std::printf("  %-40s %s, %zu files\n", r.name.c_str(), r.scenario.c_str(), r.files.size());
    for (auto& f : r.files)
      std::printf("    token %-4llu %-12s %-22s %llu bytes\n", static_cast<unsigned long long>(f.token), f.kind.c_str(),
                  f.label.c_str(), static_cast<unsigned long long>(f.size));
  }
  for (auto& d : s.devices)
    std::printf("device %s: driver %s, %s, bus master %d, job %llu x %llu bytes, %llu done before the kexec\n",
                d.bdf.c_str(), d.driver.c_str(), d.preserved ? "preserved" : ("not preserved: " + d.not_preservable).c_str(),
                d.bus_master_before, static_cast<unsigned long long>(d.job.copies),
                static_cast<unsigned long long>(d.job.copy_size), static_cast<unsigned long long>(d.job.progress_before));
  std::printf("planned checks (%zu):", s.planned_checks.size());
  for (auto& c : s.planned_checks) std::printf(" %s", c.c_str());
  std::printf("\n");
}

int show(const Global& g, const std::string& file) {
  auto paths = paths_for(g);
  std::string path = file;
  if (path.empty()) path = path_exists(paths.state_file()) ? paths.state_file() : paths.last_state_file();
  auto st = state::FileStore(path).load();
  if (!st) return report_error(g, st.error());
  if (g.json) print_json(state_json(path, *st));
  else print_text(path, *st);
  return kExitPass;
}

}  // namespace

void add_state_command(Cli& cli) {
  auto* state = cli.app.add_subcommand("state", "Inspect lu-test's stored state");
  state->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* cmd = state->add_subcommand("show", "Print the armed (or last) run's state");
  add_global(cli, cmd, Backend::kKernel);
  add_json(cli, cmd);
  cmd->add_option("--file", *file, "a state file to read instead of the state directory's");
  on_run(cli, cmd, Backend::kKernel, [file](const Global& g) { return show(g, *file); });
}

}  // namespace lu::cli
