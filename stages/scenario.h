// A scenario arms something in the pre stage and checks it in the post stage. Scenarios
// register in the table in registry.cc; the engine runs them in that order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "luo/luo.h"
#include "machine/machine.h"
#include "state/records.h"
#include "stages/outcome.h"

namespace lu::stages {

struct CheckInfo {
  std::string name;
  std::string proves;  // one line for `lu-test list`
  Capability needs = Capability::kSessions;  // what a profile must claim for it to be judged
};

struct StageOptions {
  Profile profile = Profile::kAuto;
  std::vector<std::string> devices;  // canonical BDFs (DDDD:BB:DD.F)
  std::uint64_t dma_size = 0;        // bytes each device's job copies (0: the default, 64 KiB)
  std::string expected_release;      // a loop's planned kernel release: checked as kexec.kernel
};

// How an observation is judged: the resolved profile, and whether the user chose it.
struct Judge {
  Profile profile = Profile::kMemfd;
  bool explicit_profile = false;
  CheckResult operator()(std::string name, Capability c, bool held, std::string detail) const {
    return judge(std::move(name), profile, c, held, std::move(detail), explicit_profile);
  }
};

class PreContext {
 public:
  PreContext(Machine& machine, luo::Device* luo, state::RunState& state, const StageOptions& options)
      : machine_(machine), luo_(luo), state_(state), options_(options) {}

  Machine& machine() { return machine_; }
  bool luo_available() const { return luo_ != nullptr; }
  state::RunState& state() { return state_; }
  const StageOptions& options() const { return options_; }

  // Creates "lut.<run>.<iteration>.<scenario>.<suffix>" and records it; the session goes to the holder.
  Result<luo::Session*> create_session(const std::string& scenario, const std::string& suffix);
  void record_file(luo::Session& session, state::FileRecord file);
  // Fds the holder must keep open until the kexec (device, iommufd, DMA memory).
  void keep_alive(UniqueFd fd, std::string label) { keepalive_.push_back({std::move(fd), std::move(label)}); }
  void note(std::string text) { notes_.push_back(std::move(text)); }

  struct Held {
    UniqueFd fd;
    std::string label;
  };
  std::vector<std::unique_ptr<luo::Session>>& sessions() { return sessions_; }
  std::vector<Held>& keepalive() { return keepalive_; }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  Machine& machine_;
  luo::Device* luo_;
  state::RunState& state_;
  const StageOptions& options_;
  std::vector<std::unique_ptr<luo::Session>> sessions_;
  std::vector<Held> keepalive_;
  std::vector<std::string> notes_;
};

class PostContext {
 public:
  // `sink` receives every result as soon as it is known (the engine writes it to the record).
  PostContext(Machine& machine, luo::Device* luo, const state::RunState& state, Judge judge,
              std::function<void(const CheckResult&)> sink)
      : machine_(machine), luo_(luo), state_(state), judge_(judge), sink_(std::move(sink)) {}

  Machine& machine() { return machine_; }
  const state::RunState& state() const { return state_; }
  const Judge& judge() const { return judge_; }
  bool luo_available() const { return luo_ != nullptr; }
  // Retrieves an incoming session once and caches it; the engine FINISHes it later.
  Result<luo::Session*> session(const std::string& name);
  void adopt(std::unique_ptr<luo::Session> session);
  std::vector<std::unique_ptr<luo::Session>>& retrieved() { return order_; }
  void report(CheckResult result);
  const std::vector<CheckResult>& results() const { return results_; }

 private:
  Machine& machine_;
  luo::Device* luo_;
  const state::RunState& state_;
  Judge judge_;
  std::function<void(const CheckResult&)> sink_;
  std::map<std::string, Error> failed_;
  std::vector<std::unique_ptr<luo::Session>> order_;
  std::vector<CheckResult> results_;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::string name() const = 0;
  // The checks, generically (for `lu-test list`).
  virtual std::vector<CheckInfo> checks() const = 0;
  // The check names this run plans, in report order (device checks carry their BDF).
  virtual std::vector<std::string> plan(const StageOptions&) const;
  // Whether this scenario runs for these options (device scenarios need --device).
  virtual bool wanted(const StageOptions&) const { return true; }
  virtual Status pre(PreContext& ctx) = 0;
  // Reports exactly the checks it planned, each once, in plan order.
  virtual void post(PostContext& ctx) = 0;
};

std::vector<std::unique_ptr<Scenario>> all_scenarios();
// The engine's own checks, around the scenarios' ones.
std::vector<CheckInfo> engine_checks_before();
std::vector<CheckInfo> engine_checks_after();

}  // namespace lu::stages
