#include "cli/loop_actions.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/clock.h"
#include "base/parse.h"
#include "base/process.h"
#include "base/seqpacket.h"
#include "cli/exit_code.h"
#include "cli/stage_actions.h"
#include "sim/client.h"
#include "stages/loop/loop_report.h"
#include "state/store.h"

namespace lu::cli {
namespace {

namespace lp = stages::loop;

std::string minutes(std::int64_t ns) {
  if (ns < 0) return "unknown";
  std::int64_t s = ns / 1000000000;
  if (s < 120) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min";
}

// "fds 17 rss 5232 kB" of a process, from /proc.
std::string usage_of(int pid) {
  if (pid <= 0) return "gone";
  std::size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line, rss = "?";
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss = line.substr(6);
  while (!rss.empty() && rss.front() == ' ') rss.erase(rss.begin());
  return "fds " + std::to_string(fds) + " rss " + rss;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "lu-test";
}

// A stage as its own process, as on a real machine: each boot's lu-test is a new one.
ProcessResult child(const Global& g, std::vector<std::string> args) {
  auto paths = paths_for(g);
  args.insert(args.begin(), self_exe());
  args.insert(args.end(), {"--backend", "sim", "--run-dir", paths.run_dir, "--state-dir", paths.state_dir});
  auto r = run_process(args);
  return r ? *r : ProcessResult{-1, r.error().message()};
}

// The faults of --fault-at K:NAME that belong to iteration `index`.
Status arm_faults_for(const Global& g, const std::vector<std::string>& fault_at, std::uint32_t index) {
  for (auto& spec : fault_at) {
    auto colon = spec.find(':');
    auto k = parse_number<std::uint32_t>(spec.substr(0, colon));
    auto f = colon == std::string::npos ? std::nullopt : sim::parse_fault(spec.substr(colon + 1));
    if (!k || !f)
      return fail(ErrorKind::kInvalidInput, "--fault-at", spec, "give K:NAME, e.g. 3:memfd-byte-flipped (`lu-test list`)");
    if (*k == index) LU_TRY_VOID(sim::add_fault(paths_for(g).run_dir, *f));
  }
  return {};
}

void sample_resources(const Global& g, const lp::LoopLedger& ledger) {
  auto paths = paths_for(g);
  int sim_pid = -1;
  if (auto conn = connect_seqpacket(sim::socket_path(paths.run_dir))) sim_pid = peer_pid(conn->get());
  auto holder = stages::holder_status(paths.holder_socket());
  std::printf("lu-test: loop resources at iteration %zu: simulator %s; holder %s\n", ledger.entries.size(),
              usage_of(sim_pid).c_str(), usage_of(holder ? holder->pid : -1).c_str());
  std::fflush(stdout);
}

// One iteration on the simulated machine: its kexec (through the holder), then the next boot.
Status drive_one(const Global& g, const std::vector<std::string>& fault_at, std::uint32_t index) {
  LU_TRY_VOID(arm_faults_for(g, fault_at, index));
  auto kexec = child(g, {"kexec"});
  if (kexec.exit_code != kExitPass) {
    auto machine = LU_TRY(connect_machine(g, false));
    auto facts = LU_TRY(machine->boot_facts());
    auto armed = state::FileStore(paths_for(g).state_file()).load();
    if (armed && armed->boot_id_before == facts.boot_id) {
      // No kexec happened: the iteration is over all the same, as an ERROR that says why.
      (void)stages::holder_cancel(paths_for(g).holder_socket());
      std::string why = "the kexec did not happen: " + kexec.output.substr(0, kexec.output.find('\n'));
      auto step = lp::after_failed_kexec(*machine, paths_for(g), facts, why);
      return step ? Status{} : fail(step.error());
    }
  }
  auto resumed = child(g, {"loop", "resume"});
  if (resumed.exit_code != kExitPass && resumed.exit_code != kExitFail && resumed.exit_code != kExitError &&
      resumed.exit_code != kExitSkip)
    return fail(ErrorKind::kSystem, "loop resume", "iteration " + std::to_string(index),
                "the boot of this iteration failed: " + resumed.output);
  return {};
}

}  // namespace

void print_progress(const lp::LoopPlan& plan, const lp::LoopLedger& ledger, std::FILE* out) {
  auto s = lp::summarize(ledger);
  std::string of = plan.iterations ? " of " + std::to_string(plan.iterations) : "";
  std::string last = ledger.entries.empty() ? "none yet" : ledger.entries.back().verdict;
  std::fprintf(out, "lu-test: loop %s: %zu%s iterations done (pass %zu, fail %zu, error %zu, miss %zu); last %s; %s\n",
               plan.loop_id.c_str(), s.iterations, of.c_str(), s.pass, s.fail, s.error, s.miss, last.c_str(),
               ledger.ended ? ("ended: " + ledger.end_reason).c_str()
                            : ("time left " + minutes(lp::estimated_ns_left(plan, ledger, realtime_ns()))).c_str());
  std::fflush(out);
}

int continue_loop(const Global& g, Machine& machine, const stages::Verdict& verdict) {
  auto step = lp::after_post(machine, paths_for(g), verdict);
  if (!step) return report_error(g, step.error());
  if (!*step) return kExitPass;
  print_progress((*step)->plan, (*step)->ledger, stderr);
  if ((*step)->next)
    std::fprintf(stderr, "lu-test: loop: iteration %u armed (run %s)%s; next: `lu-test kexec`\n",
                 (*step)->decision.next_index, (*step)->next->state.run_id.c_str(),
                 (*step)->next->state.expected_release.empty()
                     ? ""
                     : (", kernel " + (*step)->next->state.expected_release).c_str());
  return kExitPass;
}

int resume_boot(const Global& g) {
  auto machine = connect_machine(g, false);
  if (!machine) return report_error(g, machine.error());
  auto facts = (*machine)->boot_facts();
  if (!facts) return report_error(g, facts.error());
  auto paths = paths_for(g);
  auto armed = state::FileStore(paths.state_file()).load();
  if (armed && cmdline_value(facts->cmdline, kNonceKey) == armed->nonce) return run_post(g, "");
  if (armed && armed->boot_id_before == facts->boot_id) {
    std::fprintf(stderr, "lu-test: iteration %u is armed on this boot and waits for its kexec (`lu-test kexec`)\n",
                 armed->loop_index);
    return kExitPass;
  }
  auto step = lp::after_miss(**machine, paths, *facts);
  if (!step) return report_error(g, step.error());
  std::fprintf(stderr, "lu-test: loop: iteration %u recorded as MISS: %s\n", step->entry.index, step->entry.note.c_str());
  print_progress(step->plan, step->ledger, stderr);
  return kExitPass;
}

int drive_sim_loop(const Global& g, const std::vector<std::string>& fault_at) {
  if (!is_sim(g))
    return report_error(g, make_error(ErrorKind::kInvalidInput, "loop run", "--backend kernel",
                                      "a real machine drives its loop by booting: each boot's post stage re-arms"));
  lp::LoopFiles files(paths_for(g));
  for (;;) {
    auto plan = lp::load_plan(files);
    auto ledger = lp::load_ledger(files);
    if (!plan || !ledger) return report_error(g, plan ? ledger.error() : plan.error());
    if (ledger->ended || !lp::loop_active(files)) {
      print_progress(*plan, *ledger, stdout);
      auto verdict = lp::summarize(*ledger).verdict;
      return verdict == "PASS" ? kExitPass : verdict == "FAIL" ? kExitFail : verdict == "SKIP" ? kExitSkip : kExitError;
    }
    auto index = static_cast<std::uint32_t>(ledger->entries.size() + 1);
    if (auto st = drive_one(g, fault_at, index); !st) return report_error(g, st.error());
    auto after = lp::load_ledger(files);
    if (after && after->entries.size() % 100 == 0 && !after->entries.empty()) sample_resources(g, *after);
    if (after && !after->entries.empty()) {
      auto& e = after->entries.back();
      std::printf("lu-test: loop iteration %u: %s (blackout %lld ms)\n", e.index, e.verdict.c_str(),
                  static_cast<long long>(e.blackout_ms));
      std::fflush(stdout);
    }
  }
}

}  // namespace lu::cli
