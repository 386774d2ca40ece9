#include "cli/commands.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "cli/exit_code.h"
#include "sim/server.h"
#include "state/store.h"
#include "stages/report.h"

namespace lu::cli {
namespace {

using json = nlohmann::json;

void print_json(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

std::string iso_time(std::int64_t ns) {
  if (ns <= 0) return "-";
  time_t t = static_cast<time_t>(ns / 1000000000);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

Result<stages::StageOptions> stage_options(const PreArgs& a) {
  auto profile = stages::parse_profile(a.profile);
  if (!profile)
    return fail(ErrorKind::kInvalidInput, "--profile", a.profile, "choose one of none, memfd, vfio-base, vfio-full, auto");
  if (a.devices.size() > 1)
    return fail(ErrorKind::kInvalidInput, "--device", a.devices[1],
                "one device per run for now: the device checks are named per run, not per device");
  return stages::StageOptions{*profile, a.devices};
}

Status print_file(const std::string& path) {
  auto text = LU_TRY(read_text_file(path, 16u << 20));
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return {};
}

// `next_steps`: tell the user what to type next; a cycle does it itself.
int run_pre(const Global& g, const PreArgs& a, bool next_steps) {
  auto options = stage_options(a);
  if (!options) return report_error(options.error());
  auto machine = connect_machine(g, true);
  if (!machine) return report_error(machine.error());
  if (auto st = apply_faults(g); !st) return report_error(st.error());
  stages::PreRequest request{*options, a.kernel, a.initrd, a.append};
  auto paths = paths_for(g);
  auto result = stages::stage_pre(**machine, paths, request);
  if (!result) return report_error(result.error());
  for (auto& n : result->notes) std::fprintf(stderr, "lu-test: %s\n", n.c_str());
  std::fprintf(stderr, "lu-test: pre stage armed run %s iteration %u (profile %s, %zu sessions), holder pid %d\n",
               result->state.run_id.c_str(), result->state.iteration, result->state.profile.c_str(),
               result->state.sessions.size(), result->holder_pid);
  if (next_steps)
    std::fprintf(stderr, "lu-test: next: %s; KTAP log %s\n",
                 is_sim(g) ? "`lu-test kexec --backend sim` (or, as a user's `kexec -e`: `lu-test sim kexec-e`)"
                                    : "`lu-test kexec` (or `kexec -e`)",
                 result->state.ktap_path.c_str());
  return kExitPass;
}

int run_post(const Global& g, const std::string& expect_nonce) {
  auto machine = connect_machine(g, is_sim(g));
  if (!machine) return report_error(machine.error());
  auto verdict = stages::stage_post(**machine, paths_for(g), {expect_nonce});
  if (!verdict) return report_error(verdict.error());
  if (auto st = print_file(verdict->ktap_path); !st) return report_error(st.error());
  return exit_code_for(verdict->overall());
}

int run_kexec(const Global& g, bool next_steps) {
  auto paths = paths_for(g);
  if (auto st = stages::holder_kexec(paths.holder_socket()); !st) return report_error(st.error());
  if (next_steps)
    std::fprintf(stderr, "lu-test: kexec performed; run `lu-test stage post%s`\n",
                 is_sim(g) ? " --backend sim" : "");
  return kExitPass;
}

}  // namespace

int cmd_stage_pre(const Global& g, const PreArgs& a) { return run_pre(g, a, true); }
int cmd_stage_post(const Global& g, const std::string& expect_nonce) { return run_post(g, expect_nonce); }

int cmd_kexec(const Global& g) { return run_kexec(g, true); }

int cmd_status(const Global& g) {
  auto paths = paths_for(g);
  auto s = stages::holder_status(paths.holder_socket());
  auto armed = state::FileStore(paths.state_file()).load();
  if (g.json) {
    json j{{"holder", nullptr}, {"state_file", paths.state_file()}, {"armed", bool(armed)}};
    if (s)
      j["holder"] = {{"pid", s->pid}, {"run_id", s->run_id}, {"iteration", s->iteration}, {"nonce", s->nonce},
                     {"backend", s->backend}, {"since", iso_time(s->since_ns)}, {"held", s->held}};
    print_json(j);
  } else if (s) {
    std::printf("holder pid %d: run %s iteration %u nonce %s (%s backend), holding since %s:\n", s->pid,
                s->run_id.c_str(), s->iteration, s->nonce.c_str(), s->backend.c_str(), iso_time(s->since_ns).c_str());
    for (auto& h : s->held) std::printf("  %s\n", h.c_str());
  } else {
    std::printf("no holder is running (%s)\n", paths.holder_socket().c_str());
    if (armed) std::printf("an armed state exists for run %s iteration %u: run `lu-test stage post` after the kexec\n",
                           armed->run_id.c_str(), armed->iteration);
  }
  return s ? kExitPass : kExitNoState;
}

int cmd_cancel(const Global& g) {
  auto paths = paths_for(g);
  bool held = bool(stages::holder_status(paths.holder_socket()));
  if (held)
    if (auto st = stages::holder_cancel(paths.holder_socket()); !st) return report_error(st.error());
  auto machine = connect_machine(g, false);
  if (machine)
    if (auto st = (*machine)->kexec().unload(); !st) return report_error(st.error());
  // Keep the cancelled state for inspection rather than deleting it.
  if (path_exists(paths.state_file()) &&
      ::rename(paths.state_file().c_str(), (paths.state_dir + "/state.cancelled.bin").c_str()) != 0)
    return report_error(make_error(ErrorKind::kSystem, "rename", paths.state_file(),
                                   "the cancelled state stays where it is; check the state directory", errno));
  std::fprintf(stderr, "lu-test: %s; kexec unloaded\n", held ? "holder released every fd" : "no holder was running");
  return kExitPass;
}

int cmd_state_show(const Global& g, const std::string& file) {
  auto paths = paths_for(g);
  std::string path = file;
  if (path.empty()) path = path_exists(paths.state_file()) ? paths.state_file() : paths.last_state_file();
  auto st = state::FileStore(path).load();
  if (!st) return report_error(st.error());
  const auto& s = *st;
  if (g.json) {
    json sessions = json::array();
    for (auto& r : s.sessions) {
      json files = json::array();
      for (auto& f : r.files)
        files.push_back({{"token", f.token}, {"kind", f.kind}, {"label", f.label}, {"size", f.size}, {"digest", f.digest}});
      sessions.push_back({{"name", r.name}, {"scenario", r.scenario}, {"files", files}});
    }
    json scenarios = json::array();
    for (auto& r : s.scenarios) scenarios.push_back({{"name", r.name}, {"facts", r.facts}});
    print_json({{"file", path}, {"run_id", s.run_id}, {"iteration", s.iteration}, {"nonce", s.nonce},
                {"backend", s.backend}, {"profile", s.profile}, {"kernel_release_before", s.kernel_release_before},
                {"boot_id_before", s.boot_id_before}, {"armed_kernel", s.armed_kernel},
                {"armed_cmdline", s.armed_cmdline}, {"pre_started", iso_time(s.pre_started_ns)},
                {"pre_finished", iso_time(s.pre_finished_ns)}, {"planned_checks", s.planned_checks},
                {"ktap", s.ktap_path}, {"sessions", sessions}, {"previous_sessions", s.previous_sessions},
                {"scenarios", scenarios}});
    return kExitPass;
  }
  std::printf("state file     %s\nrun            %s iteration %u\nnonce          %s\nbackend        %s, profile %s\n"
              "before kexec   kernel %s, boot id %s\narmed          %s %s\npre stage      %s .. %s\nKTAP           %s\n",
              path.c_str(), s.run_id.c_str(), s.iteration, s.nonce.c_str(), s.backend.c_str(), s.profile.c_str(),
              s.kernel_release_before.c_str(), s.boot_id_before.c_str(), s.armed_kernel.c_str(),
              s.armed_cmdline.c_str(), iso_time(s.pre_started_ns).c_str(), iso_time(s.pre_finished_ns).c_str(),
              s.ktap_path.c_str());
  std::printf("sessions (%zu):\n", s.sessions.size());
  for (auto& r : s.sessions) {
    std::printf("  %-40s %s, %zu files\n", r.name.c_str(), r.scenario.c_str(), r.files.size());
    for (auto& f : r.files)
      std::printf("    token %-4llu %-12s %-22s %llu bytes\n", static_cast<unsigned long long>(f.token), f.kind.c_str(),
                  f.label.c_str(), static_cast<unsigned long long>(f.size));
  }
  std::printf("planned checks (%zu):", s.planned_checks.size());
  for (auto& c : s.planned_checks) std::printf(" %s", c.c_str());
  std::printf("\n");
  for (auto& r : s.scenarios)
    for (auto& [k, v] : r.facts) std::printf("  %s.%s = %s\n", r.name.c_str(), k.c_str(), v.c_str());
  return kExitPass;
}

int cmd_list(const Global& g) {
  json scenarios = json::array();
  auto add_checks = [](const std::vector<stages::CheckInfo>& checks) {
    json out = json::array();
    for (auto& c : checks) out.push_back({{"name", c.name}, {"proves", c.proves}});
    return out;
  };
  scenarios.push_back({{"name", "engine"}, {"checks", add_checks(stages::engine_checks_before())}});
  for (auto& s : stages::all_scenarios()) scenarios.push_back({{"name", s->name()}, {"checks", add_checks(s->checks())}});
  scenarios.push_back({{"name", "engine (after)"}, {"checks", add_checks(stages::engine_checks_after())}});
  json faults = json::array();
  for (auto& f : sim::fault_table())
    faults.push_back({{"name", f.name}, {"effect", f.effect}, {"breaks", f.breaks_check}});
  if (g.json) {
    print_json({{"scenarios", scenarios}, {"faults", faults},
                {"profiles", {"none", "memfd", "vfio-base", "vfio-full", "auto"}}});
    return kExitPass;
  }
  for (auto& s : scenarios) {
    std::printf("%s\n", s["name"].get<std::string>().c_str());
    for (auto& c : s["checks"])
      std::printf("  %-24s %s\n", c["name"].get<std::string>().c_str(), c["proves"].get<std::string>().c_str());
  }
  std::printf("\nsimulated faults (--fault NAME, --backend sim):\n");
  for (auto& f : sim::fault_table()) std::printf("  %-22s breaks %-22s %s\n", f.name, f.breaks_check, f.effect);
  std::printf("\nprofiles: none, memfd, vfio-base, vfio-full, auto\n");
  return kExitPass;
}

int cmd_report(const Global& g, const std::string& ktap, const std::string& junit) {
  std::string path = ktap.empty() ? paths_for(g).ktap_file() : ktap;
  auto text = read_text_file(path, 16u << 20);
  if (!text) return report_error(text.error());
  auto report = stages::parse_ktap(*text);
  if (!report) {
    Error e = report.error();
    e.subject = path;
    return report_error(e);
  }
  if (!junit.empty()) {
    auto xml = stages::to_junit(*report);
    if (junit == "-") {
      std::fputs(xml.c_str(), stdout);
    } else if (auto st = write_file_atomic(junit, {xml.begin(), xml.end()}); !st) {
      return report_error(st.error());
    }
  }
  if (g.json || junit.empty()) std::fputs(stages::to_json(*report).c_str(), stdout);
  return kExitPass;
}

int cmd_probe(const Global& g) {
  auto machine = connect_machine(g, is_sim(g));
  if (!machine) return report_error(machine.error());
  auto facts = (*machine)->boot_facts();
  if (!facts) return report_error(facts.error());
  auto caps = (*machine)->capabilities();
  if (!caps) return report_error(caps.error());
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

int cmd_cycle(Global g, const PreArgs& a, bool keep) {
  std::string temp;
  if (is_sim(g) && g.run_dir.empty()) {
    // A private machine per cycle: nothing shared with other runs, removed afterwards.
    char tmpl[] = "/tmp/lu-test-cycle-XXXXXX";
    if (!::mkdtemp(tmpl)) return report_error(make_error(ErrorKind::kSystem, "mkdtemp", tmpl, "check /tmp", errno));
    temp = g.run_dir = tmpl;
  }
  if (is_sim(g)) {
    if (a.profile != "auto" && g.sim_kernel_profile == "vfio-full") g.sim_kernel_profile = a.profile;
    auto o = sim_options(g, false);
    if (!o) return report_error(o.error());
    if (auto st = sim::start(*o); !st && st.error().kind != ErrorKind::kBusy) return report_error(st.error());
  }
  auto finish = [&](int rc) {
    if (is_sim(g) && !temp.empty()) {
      (void)sim::stop(g.run_dir);
      std::error_code ignored;  // a leftover temp dir is not worth failing the verdict for
      if (!keep) std::filesystem::remove_all(temp, ignored);
      else std::fprintf(stderr, "lu-test: kept %s\n", temp.c_str());
    }
    return rc;
  };
  Global pre_g = g;
  pre_g.faults.clear();  // armed at start
  int rc = run_pre(pre_g, a, false);
  if (rc != kExitPass) return finish(rc);
  rc = run_kexec(g, false);
  if (rc != kExitPass) return finish(rc);
  return finish(run_post(g, ""));
}

int cmd_debug_flip_memfd_byte(const Global& g) {
  auto what = stages::holder_flip_memfd_byte(paths_for(g).holder_socket());
  if (!what) return report_error(what.error());
  std::fprintf(stderr, "lu-test: flipped one byte of %s\n", what->c_str());
  return kExitPass;
}

int cmd_sim_start(const Global& g) {
  auto o = sim_options(g, false);
  if (!o) return report_error(o.error());
  if (auto st = sim::start(*o); !st) return report_error(st.error());
  std::fprintf(stderr, "lu-test: simulated machine (%s kernel) listening at %s\n", g.sim_kernel_profile.c_str(),
               sim::socket_path(o->run_dir).c_str());
  return kExitPass;
}

int cmd_sim_stop(const Global& g) {
  if (auto st = sim::stop(paths_for(g).run_dir); !st) return report_error(st.error());
  return kExitPass;
}

int cmd_sim_fault(const Global& g) {
  if (g.faults.empty())
    return report_error(make_error(ErrorKind::kInvalidInput, "sim fault", "", "name at least one --fault"));
  if (auto st = apply_faults(g); !st) return report_error(st.error());
  return kExitPass;
}

int cmd_sim_kexec(const Global& g) {
  if (auto st = sim::kexec_now(paths_for(g).run_dir); !st) return report_error(st.error());
  return kExitPass;
}

int cmd_sim_serve(const Global& g, int idle_exit, int ready_fd) {
  auto o = sim_options(g, false);
  if (!o) return report_error(o.error());
  if (auto st = make_directories(o->run_dir); !st) return report_error(st.error());
  sim::ServerOptions so{sim::socket_path(o->run_dir), o->profile, o->faults, idle_exit};
  if (auto st = sim::serve(so, ready_fd); !st) return report_error(st.error());
  return kExitPass;
}

}  // namespace lu::cli
