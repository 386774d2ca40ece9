#include "stages/scenarios/scenarios.h"

namespace lu::stages {

std::vector<std::unique_ptr<Scenario>> all_scenarios() {
  std::vector<std::unique_ptr<Scenario>> out;
  out.push_back(make_memfd_scenario());
  out.push_back(make_sessions_scenario());
  out.push_back(make_device_scenario());
  return out;
}

std::vector<CheckInfo> engine_checks_before() {
  return {{"kexec.nonce", "this boot is the kexec that was armed: its command line carries the stored nonce"},
          {"kexec.kernel", "this boot runs the kernel release the loop planned for it (loops with --kernel only)"},
          {"state.retrieved", "lu-test's own state session and memfd came back through LUO"},
          {"sessions.retrieved", "every session preserved before the kexec is retrieved by name"}};
}

std::vector<CheckInfo> engine_checks_after() {
  return {{"finish.order", "SESSION_FINISH succeeds on every session, lu-test's state session last"},
          {"sessions.no-leftover", "after FINISH no session is handed out again, and none of the previous iteration remains"}};
}

}  // namespace lu::stages
