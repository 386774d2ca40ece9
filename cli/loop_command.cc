// loop start | status | stop | resume | run | report: nightly kexec loops.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "base/clock.h"
#include "base/files.h"
#include "base/parse.h"
#include "base/process.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/loop_actions.h"
#include "cli/stage_actions.h"
#include "stages/loop/loop.h"
#include "stages/loop/loop_report.h"

namespace lu::cli {
namespace {

namespace lp = stages::loop;

struct StartArgs {
  PreArgs pre;  // --kernel/--initrd/--append repeat here: one entry per kernel to alternate
  std::vector<std::string> kernels, initrds, appends;
  std::uint32_t iterations = 0;
  std::string duration;
  std::string stop_on = "never";
  std::uint32_t max_consecutive_failures = 0;
  bool no_run = false;
  std::vector<std::string> fault_at;
};

// "90s", "30m", "8h", "2d" or plain seconds.
Result<std::int64_t> parse_duration(const std::string& text) {
  if (text.empty()) return std::int64_t{0};
  std::int64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's': digits.pop_back(); break;
    case 'm': unit = 60; digits.pop_back(); break;
    case 'h': unit = 3600; digits.pop_back(); break;
    case 'd': unit = 86400; digits.pop_back(); break;
  }
  auto n = parse_number<std::int64_t>(digits);
  if (!n || *n <= 0 || *n > 366 * 86400 / unit)
    return fail(ErrorKind::kInvalidInput, "--for", text, "give a duration such as 90s, 30m, 8h or 2d");
  return *n * unit * 1000000000;
}

Result<lp::LoopPlan> plan_from(const Global& g, const StartArgs& a) {
  lp::LoopPlan plan;
  auto request = LU_TRY(pre_request(a.pre));
  plan.profile = stages::profile_name(request.options.profile);
  plan.devices = request.options.devices;
  plan.dma_size = request.options.dma_size;
  plan.backend = backend_name(g.backend);
  plan.iterations = a.iterations;
  plan.duration_ns = LU_TRY(parse_duration(a.duration));
  if (!plan.iterations && !plan.duration_ns)
    return fail(ErrorKind::kInvalidInput, "loop start", "budget",
                "give --iterations N or --for DURATION (or both): an unattended loop needs a budget");
  if (a.stop_on == "fail") plan.stop_on_rule = static_cast<std::uint8_t>(lp::StopOn::kFail);
  else if (a.stop_on == "error") plan.stop_on_rule = static_cast<std::uint8_t>(lp::StopOn::kError);
  else if (a.stop_on != "never")
    return fail(ErrorKind::kInvalidInput, "--stop-on", a.stop_on, "choose fail, error or never");
  plan.max_consecutive_failures = a.max_consecutive_failures;
  if (a.initrds.size() > a.kernels.size() || a.appends.size() > std::max<std::size_t>(a.kernels.size(), 1))
    return fail(ErrorKind::kInvalidInput, "--initrd/--append", "loop start",
                "give at most one --initrd and one --append per --kernel, in the same order");
  for (std::size_t i = 0; i < a.kernels.size(); ++i)
    plan.kernels.push_back({a.kernels[i], i < a.initrds.size() ? a.initrds[i] : "",
                            i < a.appends.size() ? a.appends[i] : (a.appends.size() == 1 ? a.appends[0] : ""), ""});
  if (plan.kernels.empty()) plan.kernels.push_back({"", "", a.appends.empty() ? "" : a.appends[0], ""});
  return plan;
}

int start(const Global& g, const StartArgs& a) {
  auto plan = plan_from(g, a);
  if (!plan) return report_error(g, plan.error());
  auto machine = connect_machine(g, true);
  if (!machine) return report_error(g, machine.error());
  if (auto st = apply_faults(g); !st) return report_error(g, st.error());
  auto first = lp::start(**machine, paths_for(g), *plan);
  if (!first) return report_error(g, first.error());
  auto loaded = lp::load_plan(lp::LoopFiles(paths_for(g)));
  std::fprintf(stderr, "lu-test: loop %s started: iteration 1 armed (run %s)%s\n",
               loaded ? loaded->loop_id.c_str() : "?", first->state.run_id.c_str(),
               is_sim(g) ? "" : "; next: `lu-test kexec` (each boot's post stage re-arms the next)");
  if (!is_sim(g) || a.no_run) return kExitPass;
  return drive_sim_loop(g, a.fault_at);
}

int status(const Global& g) {
  lp::LoopFiles files(paths_for(g));
  auto plan = lp::load_plan(files);
  if (!plan) return report_error(g, plan.error());
  auto ledger = lp::load_ledger(files);
  if (!ledger) return report_error(g, ledger.error());
  auto j = lp::loop_json(*plan, *ledger);
  std::int64_t left = lp::estimated_ns_left(*plan, *ledger, realtime_ns());
  j["time_left_s"] = left < 0 ? nlohmann::json(nullptr) : nlohmann::json(left / 1000000000);
  if (g.json) {
    j.erase("iterations");
    j["last"] = ledger->entries.empty() ? nlohmann::json(nullptr) : lp::loop_json(*plan, *ledger)["iterations"].back();
    print_json(j);
    return kExitPass;
  }
  print_progress(*plan, *ledger, stdout);
  return kExitPass;
}

int stop(const Global& g) {
  if (auto st = lp::request_stop(paths_for(g)); !st) return report_error(g, st.error());
  std::fprintf(stderr, "lu-test: loop stop requested: the iteration armed now still gets its verdict; none follows\n");
  return kExitPass;
}

struct ReportArgs {
  std::string json, html;
};

int report(const Global& g, const ReportArgs& a) {
  lp::LoopFiles files(paths_for(g));
  auto plan = lp::load_plan(files);
  if (!plan) return report_error(g, plan.error());
  auto ledger = lp::load_ledger(files);
  if (!ledger) return report_error(g, ledger.error());
  auto write = [&](const std::string& where, const std::string& text) -> int {
    if (where == "-") return std::fputs(text.c_str(), stdout), kExitPass;
    if (auto st = write_file_atomic(where, {text.begin(), text.end()}); !st) return report_error(g, st.error());
    return kExitPass;
  };
  if (a.json.empty() && a.html.empty()) return print_progress(*plan, *ledger, stdout), kExitPass;
  if (a.json == "-" && a.html == "-")
    return report_error(g, make_error(ErrorKind::kInvalidInput, "loop report", "-", "one format per output stream"));
  if (!a.json.empty())
    if (int rc = write(a.json, lp::loop_json(*plan, *ledger).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"))
      return rc;
  if (!a.html.empty())
    if (int rc = write(a.html, lp::loop_html(*plan, *ledger))) return rc;
  return kExitPass;
}

}  // namespace

void add_loop_command(Cli& cli) {
  auto* loop = cli.app.add_subcommand("loop", "Nightly kexec loops: arm, kexec, verify, re-arm, within a budget");
  loop->require_subcommand(1);

  auto a = std::make_shared<StartArgs>();
  auto* st = loop->add_subcommand("start", "Start a loop and arm its first iteration (on the simulated machine: run it)");
  add_global(cli, st, Backend::kKernel);
  add_sim_options(cli, st);
  st->add_option("--profile", a->pre.profile, "as for `stage pre`")->capture_default_str();
  st->add_option("--device", a->pre.devices, "as for `stage pre` (repeatable)");
  st->add_option("--dma-size", a->pre.dma_size, "as for `stage pre`");
  st->add_option("--kernel", a->kernels, "a kernel to kexec into; give two (or more) to alternate A, B, A, ...");
  st->add_option("--initrd", a->initrds, "the initrd of each --kernel, in order");
  st->add_option("--append", a->appends, "the command line of each --kernel, in order (one: for all)");
  st->add_option("--iterations", a->iterations, "stop after N iterations");
  st->add_option("--for", a->duration, "stop once this long has passed (90s, 30m, 8h, 2d)");
  st->add_option("--stop-on", a->stop_on,
                 "fail: stop at the first FAIL, ERROR or MISS; error: at the first ERROR or MISS; never: budgets only")
      ->capture_default_str();
  st->add_option("--max-consecutive-failures", a->max_consecutive_failures, "stop after K failing iterations in a row");
  st->add_flag("--no-run", a->no_run, "simulated machine: only arm iteration 1 (drive it with `loop run`)");
  st->add_option("--fault-at", a->fault_at, "simulated machine: arm fault NAME before iteration K's kexec (K:NAME)");
  on_run(cli, st, Backend::kKernel, [a](const Global& g) { return start(g, *a); });

  auto* status_cmd = loop->add_subcommand("status", "Iteration, budget left, counts, last verdict, time left");
  add_global(cli, status_cmd, Backend::kKernel);
  add_json(cli, status_cmd);
  on_run(cli, status_cmd, Backend::kKernel, status);

  auto* stop_cmd = loop->add_subcommand("stop", "Arm no further iteration (the armed one still gets its verdict)");
  add_global(cli, stop_cmd, Backend::kKernel);
  on_run(cli, stop_cmd, Backend::kKernel, stop);

  auto* resume = loop->add_subcommand(
      "resume", "What a boot does while a loop is active: the post stage on the armed kexec, else a MISS; then re-arm");
  add_global(cli, resume, Backend::kKernel);
  on_run(cli, resume, Backend::kKernel, resume_boot);

  auto faults = std::make_shared<std::vector<std::string>>();
  auto* run = loop->add_subcommand("run", "Simulated machine: drive the active loop to its end (kexec, resume, ...)");
  add_global(cli, run, Backend::kSim);
  run->add_option("--fault-at", *faults, "arm fault NAME before iteration K's kexec (K:NAME, repeatable)");
  on_run(cli, run, Backend::kSim, [faults](const Global& g) { return drive_sim_loop(g, *faults); });

  auto r = std::make_shared<ReportArgs>();
  auto* rep = loop->add_subcommand("report", "The loop's report: per-iteration verdicts and times, totals, blackout p50/p95/max");
  add_global(cli, rep, Backend::kKernel);
  rep->add_option("--json", r->json, "write the JSON report here (- for stdout)");
  rep->add_option("--html", r->html, "write a self-contained HTML page here (inline SVG)");
  on_run(cli, rep, Backend::kKernel, [r](const Global& g) { return report(g, *r); });
}

}  // namespace lu::cli
