// probe: what this kernel can preserve, and which profile `--profile auto` picks.
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "stages/outcome.h"

namespace lu::cli {
namespace {

int probe(const Global& g) {
  auto machine = connect_machine(g, is_sim(g));
  if (!machine) return report_error(g, machine.error());
  auto facts = (*machine)->boot_facts();
  if (!facts) return report_error(g, facts.error());
  auto caps = (*machine)->capabilities();
  if (!caps) return report_error(g, caps.error());
  auto loaded = (*machine)->kexec().loaded();
  auto profile = stages::strongest_profile(*caps);
  std::string auto_profile = profile ? stages::profile_name(*profile) : "SKIP";
  std::string why = profile ? stages::profile_reason(*caps) : caps->luo_problem;
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  if (g.json) {
    print_json({{"schema", "lu-test.probe/1"}, {"backend", backend_name(g.backend)},
                {"kernel_release", facts->kernel_release}, {"boot_id", facts->boot_id}, {"cmdline", facts->cmdline},
                {"liveupdate", caps->luo() ? "available" : caps->luo_problem},
                {"kexec_loaded", loaded ? *loaded : false}, {"memfd_preservation", caps->memfd},
                {"device_fd_preservation", caps->device_fd}, {"device_state_preservation", caps->device_state},
                {"dma_preservation", caps->dma}, {"vfio_cdev", caps->vfio_cdev}, {"iommufd", caps->iommufd},
                {"facts_from", caps->source}, {"auto_profile", auto_profile}, {"auto_reason", why}});
    return kExitPass;
  }
  std::printf("backend          %s\nkernel           %s\nboot id          %s\ncmdline          %s\n"
              "/dev/liveupdate  %s\nkexec loaded     %s\nmemfd preserve   %s\ndevice fd        %s\n"
              "bus master/cfg   %s\nDMA across kexec %s\nvfio cdev        %s\niommufd          %s\n"
              "facts from       %s\nauto profile     %s (%s)\n",
              backend_name(g.backend), facts->kernel_release.c_str(), facts->boot_id.c_str(), facts->cmdline.c_str(),
              caps->luo() ? "available" : caps->luo_problem.c_str(), loaded ? yes(*loaded) : "unknown",
              yes(caps->memfd), yes(caps->device_fd), yes(caps->device_state), yes(caps->dma), yes(caps->vfio_cdev),
              yes(caps->iommufd), caps->source.c_str(), auto_profile.c_str(), why.c_str());
  return kExitPass;
}

}  // namespace

void add_probe_command(Cli& cli) {
  auto* cmd = cli.app.add_subcommand("probe", "Report what this machine can preserve and which profile `auto` picks");
  add_global(cli, cmd, Backend::kKernel);
  add_json(cli, cmd);
  on_run(cli, cmd, Backend::kKernel, probe);
}

}  // namespace lu::cli
