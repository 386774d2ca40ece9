// stage pre | stage post | kexec | status | cancel | debug flip-memfd-byte
#include <memory>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/stage_actions.h"
#include "state/store.h"

namespace lu::cli {
namespace {

int show_status(const Global& g) {
  auto paths = paths_for(g);
  auto s = stages::holder_status(paths.holder_socket());
  auto armed = state::FileStore(paths.state_file()).load();
  std::string died = stages::holder_death_note(paths.holder_note());
  if (g.json) {
    nlohmann::json j{{"schema", "lu-test.status/1"}, {"holder", nullptr}, {"state_file", paths.state_file()},
                     {"armed", bool(armed)}, {"holder_died", died.empty() ? nullptr : nlohmann::json(died)}};
    if (s)
      j["holder"] = {{"pid", s->pid}, {"run_id", s->run_id}, {"iteration", s->iteration}, {"nonce", s->nonce},
                     {"backend", s->backend}, {"since", iso_time(s->since_ns)}, {"held", s->held}};
    print_json(j);
  } else if (s) {
    std::printf("holder pid %d: run %s iteration %u nonce %s (%s backend), holding since %s:\n", s->pid,
                s->run_id.c_str(), s->iteration, s->nonce.c_str(), s->backend.c_str(), iso_time(s->since_ns).c_str());
    for (auto& h : s->held) std::printf("  %s\n", h.c_str());
  } else if (!died.empty()) {
    std::printf("no holder is running: %s\n", died.c_str());
  } else {
    std::printf("no holder is running (%s)\n", paths.holder_socket().c_str());
    if (armed)
      std::printf("an armed state exists for run %s iteration %u: after its kexec run `lu-test stage post`; "
                  "on the boot that armed it, nothing holds its sessions any more (`lu-test cancel`)\n",
                  armed->run_id.c_str(), armed->iteration);
  }
  return s ? kExitPass : kExitNoState;
}

int flip_memfd_byte(const Global& g) {
  auto what = stages::holder_flip_memfd_byte(paths_for(g).holder_socket());
  if (!what) return report_error(g, what.error());
  std::fprintf(stderr, "lu-test: flipped one byte of %s\n", what->c_str());
  return kExitPass;
}

}  // namespace

void add_stage_commands(Cli& cli) {
  auto* stage = cli.app.add_subcommand("stage", "Run one stage of a cycle");
  stage->require_subcommand(1);

  auto pre = std::make_shared<PreArgs>();
  auto* stage_pre = stage->add_subcommand("pre", "Arm a run: preserve state through LUO, arm the kexec, start the holder");
  add_global(cli, stage_pre, Backend::kKernel);
  add_sim_options(cli, stage_pre);
  add_pre_options(stage_pre, *pre);
  on_run(cli, stage_pre, Backend::kKernel, [pre](const Global& g) { return run_pre(g, *pre, true).code; });

  auto nonce = std::make_shared<std::string>();
  auto* stage_post = stage->add_subcommand("post", "After the kexec: retrieve, check, FINISH, write the verdict");
  add_global(cli, stage_post, Backend::kKernel);
  stage_post->add_option("--expect-nonce", *nonce,
                         "judge the boot against this nonce instead of the stored one (proves the nonce check fails)");
  on_run(cli, stage_post, Backend::kKernel, [nonce](const Global& g) { return run_post(g, *nonce); });

  auto if_armed = std::make_shared<bool>(false);
  auto* kexec = cli.app.add_subcommand("kexec", "Ask the holder to perform the armed kexec (the fds are alive at the syscall)");
  add_global(cli, kexec, Backend::kKernel);
  kexec->add_flag("--if-armed", *if_armed, "exit 0 doing nothing when nothing is armed (a boot unit's form)");
  on_run(cli, kexec, Backend::kKernel, [if_armed](const Global& g) {
    if (*if_armed && !stages::holder_status(paths_for(g).holder_socket())) {
      std::fprintf(stderr, "lu-test: nothing is armed: no kexec\n");
      return static_cast<int>(kExitPass);
    }
    return run_kexec(g, true);
  });

  auto* status = cli.app.add_subcommand("status", "Show the holder: what it holds, for which run");
  add_global(cli, status, Backend::kKernel);
  add_json(cli, status);
  on_run(cli, status, Backend::kKernel, show_status);

  auto* cancel = cli.app.add_subcommand("cancel", "Release what the holder keeps, unload the armed kernel, record CANCELLED");
  add_global(cli, cancel, Backend::kKernel);
  on_run(cli, cancel, Backend::kKernel, run_cancel);

  auto* debug = cli.app.add_subcommand("debug", "Break a run on purpose, on any machine (proves the checks can fail)");
  debug->require_subcommand(1);
  auto* flip = debug->add_subcommand(
      "flip-memfd-byte", "Between pre and kexec: flip one byte of a preserved memfd (memfd.content must fail)");
  add_global(cli, flip, Backend::kKernel);
  on_run(cli, flip, Backend::kKernel, flip_memfd_byte);
}

}  // namespace lu::cli
