#include "stages/engine.h"

#include <time.h>

#include <random>

#include "base/clock.h"
#include "base/digest.h"
#include "base/files.h"
#include "state/codec.h"
#include "state/store.h"
#include "stages/ktap.h"

namespace lu::stages {
namespace {

std::string random_hex(int bytes) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", rd() & 0xff);
    out += b;
  }
  return out;
}

std::vector<std::unique_ptr<Scenario>> wanted_scenarios(const StageOptions& options) {
  std::vector<std::unique_ptr<Scenario>> out;
  for (auto& s : all_scenarios())
    if (s->wanted(options)) out.push_back(std::move(s));
  return out;
}

// An iteration armed earlier whose post stage never ran is reported, not silently replaced.
std::optional<std::string> take_missed_iteration(const Paths& paths) {
  state::FileStore armed(paths.state_file());
  auto previous = armed.load();
  if (!previous) return std::nullopt;
  std::string note = "MISS iteration " + std::to_string(previous->iteration) + " (nonce " + previous->nonce +
                     ") was armed but its post stage never ran";
  (void)::rename(paths.state_file().c_str(), (paths.state_dir + "/state.miss." + previous->nonce + ".bin").c_str());
  return note;
}

Status arm_kexec(Machine& machine, const PreRequest& request, const BootFacts& facts, state::RunState& state) {
  KexecImage image = machine.default_image(facts);
  if (!request.kernel.empty()) image = {request.kernel, request.initrd, ""};
  if (!request.initrd.empty()) image.initrd = request.initrd;
  image.cmdline = cmdline_with_nonce(request.append.empty() ? facts.cmdline : request.append, state.nonce, state.iteration);
  LU_TRY_VOID(machine.kexec().load(image));
  state.armed_cmdline = image.cmdline;
  state.armed_kernel = image.kernel;
  return {};
}

}  // namespace

std::vector<std::string> planned_checks(const StageOptions& options) {
  std::vector<std::string> out;
  for (auto& c : engine_checks_before()) out.push_back(c.name);
  for (auto& s : wanted_scenarios(options))
    for (auto& c : s->checks()) out.push_back(c.name);
  for (auto& c : engine_checks_after()) out.push_back(c.name);
  return out;
}

Result<PreResult> stage_pre(Machine& machine, const Paths& paths, const PreRequest& request) {
  PreResult result;
  auto& st = result.state;
  st.pre_started_ns = realtime_ns();
  auto facts = LU_TRY(machine.boot_facts());
  LU_TRY_VOID(make_directories(paths.state_dir));
  LU_TRY_VOID(make_directories(paths.run_dir));
  if (holder_status(paths.holder_socket()))
    return fail(ErrorKind::kStageMismatch, "stage pre", paths.holder_socket(),
                "a run is already armed and its holder is alive: `lu-test kexec` to go on, `lu-test cancel` to drop it");

  // Before /dev/liveupdate is opened: the probe opens it too, and it is exclusive.
  auto caps = LU_TRY(machine.capabilities());

  // 1. LUO: absent is an outcome (profile none), anything else stops the run.
  std::unique_ptr<luo::Device> luo;
  if (auto dev = machine.luo().open()) {
    luo = std::move(*dev);
  } else if (dev.error().kind != ErrorKind::kUnavailable) {
    return fail(dev.error());
  } else if (request.options.profile != Profile::kNone && request.options.profile != Profile::kAuto) {
    // The profile claims LUO; arming a kexec that can only fail every check helps nobody.
    Error e = dev.error();
    e.hint += "; --profile " + std::string(profile_name(request.options.profile)) +
              " needs it (use --profile none for a plain-kexec control run)";
    return fail(e);
  }

  // 2. The state session first: EEXIST means this boot already holds lu-test state.
  std::unique_ptr<luo::Session> state_session;
  if (luo) {
    auto s = luo->create_session(state::kStateSessionName);
    if (!s && s.error().err == EEXIST)
      return fail(ErrorKind::kStageMismatch, "stage pre", state::kStateSessionName,
                  "an lu-test state session already exists: after an armed kexec run `lu-test stage post`; "
                  "before one, `lu-test status` / `lu-test cancel`");
    if (!s) return fail(s.error());
    state_session = std::move(*s);
  }

  // 3. Identity of this iteration.
  if (auto missed = take_missed_iteration(paths)) result.notes.push_back(*missed);
  state::FileStore last(paths.last_state_file());
  if (auto previous = last.load()) {
    st.iteration = previous->iteration + 1;
    for (auto& s : previous->sessions) st.previous_sessions.push_back(s.name);
    st.previous_sessions.push_back(state::kStateSessionName);
  } else {
    st.iteration = 1;
  }
  st.run_id = random_hex(8);
  st.nonce = random_hex(8);
  st.backend = backend_name(machine.backend());
  st.kernel_release_before = facts.kernel_release;
  st.boot_id_before = facts.boot_id;
  Profile profile = request.options.profile;
  if (profile == Profile::kAuto) {
    auto strongest = strongest_profile(caps);
    if (!strongest)
      return fail(ErrorKind::kUnavailable, "--profile auto", "/dev/liveupdate",
                  "the kernel has no LUO (" + caps.luo_problem + "): nothing to test");
    profile = *strongest;
  }

  // 4. Scenarios arm their state.
  PreContext ctx(machine, luo.get(), st, request.options);
  ctx.set_profile(profile);
  auto scenarios = wanted_scenarios(request.options);
  for (auto& s : scenarios) {
    if (auto armed = s->pre(ctx); !armed) {
      Error e = armed.error();
      e.op = "scenario " + s->name() + ": " + e.op;
      return fail(e);
    }
  }
  st.profile = profile_name(ctx.profile());
  st.planned_checks = planned_checks(request.options);
  st.ktap_path = paths.ktap_file();
  st.ktap_next = 1;

  // 5. KTAP header, durable before anything irreversible.
  auto ktap = LU_TRY(KtapStream::create(st.ktap_path));
  LU_TRY_VOID(ktap.header(st.planned_checks.size()));
  LU_TRY_VOID(ktap.diagnostic("lu-test run " + st.run_id + " iteration " + std::to_string(st.iteration) + " nonce " +
                              st.nonce + " backend " + st.backend + " profile " + st.profile));
  LU_TRY_VOID(ktap.diagnostic("pre: kernel " + facts.kernel_release + " boot_id " + facts.boot_id));
  for (auto& n : result.notes) LU_TRY_VOID(ktap.diagnostic(n));
  for (auto& n : ctx.notes()) LU_TRY_VOID(ktap.diagnostic("pre: " + n));

  // 6. Arm the kexec with the nonce, then write the state to both stores.
  LU_TRY_VOID(arm_kexec(machine, request, facts, st));
  st.pre_finished_ns = realtime_ns();
  auto undo_arm = [&](Error e) {
    (void)machine.kexec().unload();
    return fail(std::move(e));
  };
  if (state_session)
    if (auto saved = state::save_to_session(*state_session, st); !saved) return undo_arm(saved.error());
  if (auto saved = state::FileStore(paths.state_file()).save(st); !saved) return undo_arm(saved.error());
  LU_TRY_VOID(ktap.diagnostic("pre: armed " + st.armed_kernel + " with: " + st.armed_cmdline));
  LU_TRY_VOID(ktap.sync());
  luo.reset();  // /dev/liveupdate is exclusive: never let the holder inherit it

  // 7. Hand every fd to the holder.
  std::vector<HeldFd> held;
  if (state_session) held.push_back({state_session->fd(), "session " + state_session->name()});
  for (auto& s : ctx.sessions()) held.push_back({s->fd(), "session " + s->name()});
  for (auto& k : ctx.keepalive()) held.push_back({k.fd.get(), k.label});
  HolderSpec spec{paths.holder_socket(), paths.holder_log(), st.run_id, st.nonce, st.backend, st.iteration, &machine};
  auto pid = launch_holder(spec, held);
  if (!pid) return undo_arm(pid.error());
  result.holder_pid = *pid;
  for (auto& n : ctx.notes()) result.notes.push_back(n);
  return result;
}

}  // namespace lu::stages
