#include "stages/pre_steps.h"

#include <cstdio>
#include <ctime>
#include <random>

#include "base/clock.h"
#include "base/files.h"
#include "state/store.h"

namespace lu::stages {
namespace {

std::string utc_stamp() {
  time_t t = ::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  return buf;
}

// A state file lu-test cannot read is evidence, not garbage: keep it next to the new run.
std::string keep_corrupt_state(const Paths& paths, const Error& why) {
  std::string aside = paths.state_dir + "/state.corrupt." + utc_stamp() + ".bin";
  if (::rename(paths.state_file().c_str(), aside.c_str()) != 0)
    return "the armed state file is unreadable (" + why.message() + ") and could not be moved aside";
  return "the armed state file was unreadable (" + why.message() + "); kept as " + aside;
}

bool has_word(const std::string& cmdline, const std::string& word) {
  return (" " + cmdline + " ").find(" " + word + " ") != std::string::npos;
}

}  // namespace

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

Result<std::vector<std::string>> settle_previous_run(const Paths& paths, const BootFacts& facts) {
  if (holder_status(paths.holder_socket()))
    return fail(ErrorKind::kStageMismatch, "stage pre", paths.holder_socket(),
                "a run is already armed and its holder is alive: `lu-test kexec` to go on, `lu-test cancel` to drop it");
  auto previous = state::FileStore(paths.state_file()).load();
  if (!previous) {
    if (previous.error().kind == ErrorKind::kNoState) return std::vector<std::string>{};
    if (previous.error().kind == ErrorKind::kIncompatibleState) return fail(previous.error());
    return std::vector<std::string>{keep_corrupt_state(paths, previous.error())};
  }
  if (cmdline_value(facts.cmdline, kNonceKey) == previous->nonce)
    return fail(ErrorKind::kStageMismatch, "stage pre", paths.state_file(),
                "this boot is the kexec armed by run " + previous->run_id + " (its nonce is on the command line) "
                "and its post stage has not run: `lu-test stage post` first");
  // Armed, but nobody holds it and this is not its kexec: its post stage will never run.
  std::string why = "MISS: iteration " + std::to_string(previous->iteration) + " (run " + previous->run_id +
                    ", nonce " + previous->nonce + ") was armed but its post stage never ran (a firmware reboot, a "
                    "crash, a power cut, or a holder that died before the kexec)";
  LU_TRY_VOID(close_armed_iteration(paths, *previous, RunOutcome::kMiss, Outcome::kError, why,
                                    "state.miss." + previous->nonce + ".bin"));
  return std::vector<std::string>{why};
}

Result<std::optional<Profile>> resolve_profile(Profile requested, const Capabilities& caps) {
  if (requested == Profile::kAuto) return strongest_profile(caps);
  if (requested != Profile::kNone && !caps.luo())
    // The profile claims LUO; arming a kexec that can only fail every check helps nobody.
    return fail(ErrorKind::kUnavailable, "--profile", profile_name(requested),
                caps.luo_problem + "; --profile " + profile_name(requested) +
                    " needs it (--profile none runs a plain-kexec control, --profile auto a SKIP)");
  return std::optional<Profile>(requested);
}

Result<LuoHandles> open_luo_for_pre(Machine& machine, Profile profile) {
  LuoHandles h;
  auto dev = machine.luo().open();
  if (!dev) {
    if (dev.error().kind == ErrorKind::kUnavailable && profile == Profile::kNone) return h;
    return fail(dev.error());
  }
  h.device = std::move(*dev);
  auto s = h.device->create_session(state::kStateSessionName);
  if (!s && s.error().err == EEXIST)
    return fail(ErrorKind::kStageMismatch, "stage pre", state::kStateSessionName,
                "an lu-test state session already exists: after an armed kexec run `lu-test stage post`; "
                "before one, `lu-test status` / `lu-test cancel`");
  if (!s) return fail(s.error());
  h.state_session = std::move(*s);
  return h;
}

state::RunState new_identity(const Paths& paths, const BootFacts& facts, const PreRequest& request, Profile profile) {
  state::RunState st;
  st.iteration = 1;
  if (auto previous = state::FileStore(paths.last_state_file()).load()) {
    st.iteration = previous->iteration + 1;
    for (auto& s : previous->sessions) st.previous_sessions.push_back(s.name);
    if (!previous->sessions.empty()) st.previous_sessions.push_back(state::kStateSessionName);
  }
  st.run_id = random_hex(8);
  st.nonce = random_hex(8);
  st.backend = backend_name(Backend::kKernel);
  st.profile = profile_name(profile);
  st.profile_requested = profile_name(request.options.profile);
  st.kernel_release_before = facts.kernel_release;
  st.boot_id_before = facts.boot_id;
  st.loop_id = request.loop_id;
  st.loop_index = request.loop_index;
  st.expected_release = request.options.expected_release;
  return st;
}

Status arm_kexec(Machine& machine, const PreRequest& request, const BootFacts& facts, Profile profile,
                 state::RunState& st, std::vector<std::string>& warnings) {
  st.backend = backend_name(machine.backend());
  KexecImage image = machine.default_image(facts);
  if (!request.kernel.empty()) image = {request.kernel, request.initrd, ""};
  if (!request.initrd.empty()) image.initrd = request.initrd;
  image.cmdline = cmdline_with_nonce(request.append.empty() ? facts.cmdline : request.append, st.nonce, st.iteration);
  LU_TRY_VOID(machine.kexec().load(image));
  st.armed_cmdline = image.cmdline;
  st.armed_kernel = image.kernel;
  if (profile == Profile::kNone) return {};
  // The next kernel opens /dev/liveupdate only with liveupdate=on, and KHO needs kho=on
  // unless it is on by default (then this boot does not carry it either).
  if (cmdline_value(image.cmdline, "liveupdate") != "on")
    warnings.push_back("the armed command line has no liveupdate=on: the next kernel will not open /dev/liveupdate "
                       "and every LUO check will fail; add it with --append");
  if (has_word(facts.cmdline, "kho=on") && cmdline_value(image.cmdline, "kho") != "on")
    warnings.push_back("this boot has kho=on but the armed command line does not: the next kernel may receive "
                       "nothing; add kho=on with --append");
  return {};
}

Result<int> hand_to_holder(Machine& machine, const Paths& paths, const state::RunState& st, LuoHandles& luo,
                           PreContext& ctx) {
  luo.device.reset();  // /dev/liveupdate is exclusive: never let the holder inherit it
  std::vector<HeldFd> held;
  if (luo.state_session) held.push_back({luo.state_session->fd(), "session " + luo.state_session->name()});
  for (auto& s : ctx.sessions()) held.push_back({s->fd(), "session " + s->name()});
  for (auto& k : ctx.keepalive()) held.push_back({k.fd.get(), k.label});
  HolderSpec spec{paths.holder_socket(), paths.holder_log(), st.run_id, st.nonce, st.backend, st.iteration, &machine};
  spec.kexec_note = paths.kexec_note(st.iteration, st.run_id);
  spec.death_note = paths.holder_note();
  return launch_holder(spec, held);
}

}  // namespace lu::stages
