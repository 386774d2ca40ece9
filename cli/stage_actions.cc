#include "cli/stage_actions.h"

#include <unistd.h>

#include <cstdio>

#include "base/files.h"
#include "base/parse.h"
#include "cli/exit_code.h"
#include "cli/loop_actions.h"
#include "state/store.h"
#include "vfio/vfio.h"

namespace lu::cli {
namespace {

// "64K", "16M", "1G", or bytes; a multiple of 4 KiB from 4 KiB to 1 GiB.
Result<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::uint64_t{0};
  std::uint64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': unit = 1024; digits.pop_back(); break;
    case 'M': case 'm': unit = 1024 * 1024; digits.pop_back(); break;
    case 'G': case 'g': unit = 1024 * 1024 * 1024; digits.pop_back(); break;
  }
  auto n = parse_number<std::uint64_t>(digits);
  if (!n || *n == 0 || *n > (1ull << 30) / unit || (*n * unit) % 4096 != 0)
    return fail(ErrorKind::kInvalidInput, "--dma-size", text, "give a multiple of 4 KiB between 4K and 1G, e.g. 64K or 1G");
  return *n * unit;
}

}  // namespace

void add_pre_options(CLI::App* cmd, PreArgs& a) {
  cmd->add_option("--profile", a.profile,
                  "what the kernel under test claims to preserve: none, memfd, vfio-base, vfio-pci, vfio-full, or auto "
                  "(the strongest the probe can justify; no LUO: SKIP). `lu-test list --profiles` shows each")
      ->capture_default_str();
  cmd->add_option("--device", a.devices,
                  "a VFIO PCI device by BDF, e.g. 0000:00:04.0 (repeatable; bound to vfio-pci with "
                  "/usr/libexec/lu-test/lu-test-bind-vfio BDF)");
  cmd->add_option("--dma-size", a.dma_size, "bytes each device's DMA job copies (4K..1G, default 64K)");
  cmd->add_option("--kernel", a.kernel, "kernel to kexec into (default /boot/vmlinuz-$(uname -r))");
  cmd->add_option("--initrd", a.initrd, "initrd for it (default /boot/initrd.img-$(uname -r) if present)");
  cmd->add_option("--append", a.append, "its command line (default: the current one); the nonce is added");
}

Result<stages::PreRequest> pre_request(const PreArgs& a) {
  stages::PreRequest r;
  auto profile = stages::parse_profile(a.profile);
  if (!profile)
    return fail(ErrorKind::kInvalidInput, "--profile", a.profile,
                "choose one of none, memfd, vfio-base, vfio-pci, vfio-full, auto");
  r.options.profile = *profile;
  for (auto& text : a.devices) {
    auto bdf = LU_TRY(vfio::Bdf::parse(text));
    for (auto& seen : r.options.devices)
      if (seen == bdf.str()) return fail(ErrorKind::kInvalidInput, "--device", text, "each device may be named once");
    r.options.devices.push_back(bdf.str());
  }
  r.options.dma_size = LU_TRY(parse_size(a.dma_size));
  r.kernel = a.kernel;
  r.initrd = a.initrd;
  r.append = a.append;
  return r;
}

PreOutcome run_pre(const Global& g, const PreArgs& a, bool hints) {
  auto request = pre_request(a);
  if (!request) return {report_error(g, request.error())};
  auto machine = connect_machine(g, true);
  if (!machine) return {report_error(g, machine.error())};
  if (auto st = apply_faults(g); !st) return {report_error(g, st.error())};
  auto result = stages::stage_pre(**machine, paths_for(g), *request);
  if (!result) return {report_error(g, result.error())};
  for (auto& n : result->notes) std::fprintf(stderr, "lu-test: %s\n", n.c_str());
  for (auto& w : result->warnings) std::fprintf(stderr, "lu-test: warning: %s\n", w.c_str());
  const auto& st = result->state;
  if (result->skipped) {
    std::fprintf(stderr, "lu-test: SKIP: nothing armed (run %s iteration %u); record %s\n", st.run_id.c_str(),
                 st.iteration, result->record.c_str());
    (void)print_file(result->record);
    return {kExitSkip, true};
  }
  std::fprintf(stderr, "lu-test: pre stage armed run %s iteration %u (profile %s, %zu sessions), holder pid %d\n",
               st.run_id.c_str(), st.iteration, st.profile.c_str(), st.sessions.size(), result->holder_pid);
  if (hints)
    std::fprintf(stderr, "lu-test: next: %s; record %s\n",
                 is_sim(g) ? "`lu-test kexec --backend sim` (or, as a user's `kexec -e`: `lu-test sim kexec-e`)"
                           : "`lu-test kexec` (or `kexec -e`)",
                 result->record.c_str());
  return {kExitPass};
}

Status print_file(const std::string& path) {
  auto text = LU_TRY(read_text_file(path, 64u << 20));
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return {};
}

int run_post(const Global& g, const std::string& expect_nonce) {
  auto machine = connect_machine(g, is_sim(g));
  if (!machine) return report_error(g, machine.error());
  stages::PostRequest request{expect_nonce, [] { std::_Exit(kExitError); }};
  auto verdict = stages::stage_post(**machine, paths_for(g), request);
  if (!verdict) return report_error(g, verdict.error());
  if (auto st = print_file(verdict->record); !st) return report_error(g, st.error());
  // A loop's iteration: recorded, and the next one armed (or the loop ended).
  if (int rc = continue_loop(g, **machine, *verdict); rc != kExitPass) return rc;
  switch (verdict->outcome) {
    case stages::RunOutcome::kPass: return kExitPass;
    case stages::RunOutcome::kFail: return kExitFail;
    case stages::RunOutcome::kSkip: return kExitSkip;
    default: return kExitError;
  }
}

int run_kexec(const Global& g, bool hints) {
  auto paths = paths_for(g);
  if (auto st = stages::holder_kexec(paths.holder_socket()); !st) {
    Error e = st.error();
    if (auto note = stages::holder_death_note(paths.holder_note()); !note.empty()) e.hint = note;
    return report_error(g, e);
  }
  if (hints)
    std::fprintf(stderr, "lu-test: kexec performed; run `lu-test stage post%s`\n", is_sim(g) ? " --backend sim" : "");
  return kExitPass;
}

// Releases the holder, unloads the armed kernel, and closes the armed iteration as CANCELLED.
int run_cancel(const Global& g) {
  auto paths = paths_for(g);
  bool held = bool(stages::holder_status(paths.holder_socket()));
  if (held)
    if (auto st = stages::holder_cancel(paths.holder_socket()); !st) return report_error(g, st.error());
  if (auto machine = connect_machine(g, false))
    if (auto st = (*machine)->kexec().unload(); !st) return report_error(g, st.error());
  auto armed = state::FileStore(paths.state_file()).load();
  if (!armed && armed.error().kind != ErrorKind::kNoState) return report_error(g, armed.error());
  if (armed) {
    auto st = stages::close_armed_iteration(paths, *armed, stages::RunOutcome::kCancelled, stages::Outcome::kSkip,
                                            "cancelled: `lu-test cancel` released the run before its kexec",
                                            "state.cancelled.bin");
    if (!st) return report_error(g, st.error());
  }
  ::unlink(paths.holder_note().c_str());
  std::fprintf(stderr, "lu-test: %s; kexec unloaded%s\n", held ? "holder released every fd" : "no holder was running",
               armed ? ("; run " + armed->run_id + " recorded as CANCELLED").c_str() : "");
  return held || armed ? kExitPass : kExitNoState;
}

}  // namespace lu::cli
