// list: scenarios and their checks, simulated faults, profiles (what each predicts, check by
// check), exit codes.
#include <memory>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "sim/faults.h"
#include "stages/engine.h"

namespace lu::cli {
namespace {

using json = nlohmann::json;

struct ListArgs {
  bool profiles = false, exit_codes = false;
};

json checks_json() {
  json scenarios = json::array();
  auto add = [&](const std::string& name, const std::vector<stages::CheckInfo>& checks) {
    json out = json::array();
    for (auto& c : checks) out.push_back({{"name", c.name}, {"proves", c.proves}, {"needs", stages::capability_name(c.needs)}});
    scenarios.push_back({{"name", name}, {"checks", out}});
  };
  add("engine", stages::engine_checks_before());
  for (auto& s : stages::all_scenarios()) add(s->name(), s->checks());
  add("engine (after)", stages::engine_checks_after());
  return scenarios;
}

json profiles_json() {
  json out = json::array();
  for (auto& p : stages::profile_table()) {
    json claims;
    for (auto c : {stages::Capability::kSessions, stages::Capability::kDeviceFd, stages::Capability::kBusMaster,
                   stages::Capability::kConfigSpace, stages::Capability::kDmaContinuity})
      claims[stages::capability_name(c)] = stages::claim_name(stages::claim(p.profile, c));
    out.push_back({{"name", p.name}, {"kernel", p.kernel}, {"claims", claims}});
  }
  return out;
}

void print_profiles() {
  std::printf("profiles (--profile NAME; auto = the strongest the probe justifies, no LUO = SKIP):\n");
  std::printf("  %-10s %-22s %-16s %-16s %-16s %-16s\n", "", "sessions and memfds", "device fd", "bus master",
              "config space", "DMA continuity");
  for (auto& p : stages::profile_table()) {
    std::printf("  %-10s", p.name);
    for (auto c : {stages::Capability::kSessions, stages::Capability::kDeviceFd, stages::Capability::kBusMaster,
                   stages::Capability::kConfigSpace, stages::Capability::kDmaContinuity})
      std::printf(" %-16s", stages::claim_name(stages::claim(p.profile, c)));
    std::printf("\n  %-10s %s\n", "", p.kernel);
  }
  std::printf("  preserved: PASS when kept, FAIL when lost; breaks: XFAIL when lost, FAIL when kept (the profile "
              "under-claims) — under auto SKIP when lost; SKIP: no such capability. dma.fresh-memcpy is judged "
              "the same under every profile.\n");
}

int list(const Global& g, const ListArgs& a) {
  json faults = json::array();
  for (auto& f : sim::fault_table()) faults.push_back({{"name", f.name}, {"effect", f.effect}, {"breaks", f.breaks_check}});
  json codes = json::array();
  for (auto& c : exit_code_table()) codes.push_back({{"code", c.code}, {"meaning", c.meaning}});
  if (g.json) {
    print_json({{"schema", "lu-test.list/1"}, {"scenarios", checks_json()}, {"faults", faults},
                {"profiles", profiles_json()}, {"exit_codes", codes}});
    return kExitPass;
  }
  if (a.profiles) return print_profiles(), kExitPass;
  if (a.exit_codes) {
    for (auto& c : exit_code_table()) std::printf("  %3d  %s\n", c.code, c.meaning);
    return kExitPass;
  }
  for (auto& s : checks_json()) {
    std::printf("%s\n", s["name"].get<std::string>().c_str());
    for (auto& c : s["checks"])
      std::printf("  %-24s %s\n", c["name"].get<std::string>().c_str(), c["proves"].get<std::string>().c_str());
  }
  std::printf("\nsimulated faults (--fault NAME, --backend sim):\n");
  for (auto& f : sim::fault_table()) std::printf("  %-22s breaks %-22s %s\n", f.name, f.breaks_check, f.effect);
  std::printf("\n");
  print_profiles();
  std::printf("\nexit codes: `lu-test list --exit-codes`\n");
  return kExitPass;
}

}  // namespace

void add_list_command(Cli& cli) {
  auto a = std::make_shared<ListArgs>();
  auto* cmd = cli.app.add_subcommand("list", "List scenarios, checks, profiles, simulated faults and exit codes");
  add_json(cli, cmd);
  cmd->add_flag("--profiles", a->profiles, "only the profile table: what each profile predicts, check family by family");
  cmd->add_flag("--exit-codes", a->exit_codes, "only the exit codes");
  on_run(cli, cmd, Backend::kSim, [a](const Global& g) { return list(g, *a); });
}

}  // namespace lu::cli
