#include "stages/outcome.h"

namespace lu::stages {
namespace {

struct ProfileRow {
  Profile profile;
  const char* name;
  Claim sessions, device_fd, bus_master, config_space, dma;
  const char* unsupported_reason;
};

constexpr ProfileRow kProfiles[] = {
    {Profile::kNone, "none", Claim::kBroken, Claim::kBroken, Claim::kBroken, Claim::kBroken, Claim::kBroken,
     "a plain kexec preserves nothing"},
    {Profile::kMemfd, "memfd", Claim::kPreserved, Claim::kUnsupported, Claim::kUnsupported, Claim::kUnsupported,
     Claim::kUnsupported, "the kernel preserves memfds only: it has no LUO file handler for VFIO devices"},
    {Profile::kVfioBase, "vfio-base", Claim::kPreserved, Claim::kPreserved, Claim::kBroken, Claim::kBroken,
     Claim::kBroken, ""},
    {Profile::kVfioFull, "vfio-full", Claim::kPreserved, Claim::kPreserved, Claim::kPreserved, Claim::kPreserved,
     Claim::kPreserved, ""},
};

const ProfileRow& row(Profile p) {
  for (auto& r : kProfiles)
    if (r.profile == p) return r;
  return kProfiles[1];  // auto is resolved before judging; memfd is the mainline default
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "PASS";
    case Outcome::kFail: return "FAIL";
    case Outcome::kError: return "ERROR";
    case Outcome::kSkip: return "SKIP";
    case Outcome::kXfail: return "XFAIL";
  }
  return "?";
}

std::optional<Profile> parse_profile(const std::string& name) {
  if (name == "auto") return Profile::kAuto;
  for (auto& r : kProfiles)
    if (name == r.name) return r.profile;
  return std::nullopt;
}

const char* profile_name(Profile p) { return p == Profile::kAuto ? "auto" : row(p).name; }

Claim claim(Profile profile, Capability capability) {
  const auto& r = row(profile);
  switch (capability) {
    case Capability::kSessions: return r.sessions;
    case Capability::kDeviceFd: return r.device_fd;
    case Capability::kBusMaster: return r.bus_master;
    case Capability::kConfigSpace: return r.config_space;
    case Capability::kDmaContinuity: return r.dma;
  }
  return Claim::kPreserved;
}

CheckResult judge(std::string name, Profile profile, Capability capability, bool held, std::string detail) {
  CheckResult r{std::move(name), Outcome::kPass, std::move(detail), {}};
  const std::string p = profile_name(profile);
  switch (claim(profile, capability)) {
    case Claim::kUnsupported:
      r.outcome = Outcome::kSkip;
      r.diagnosis = std::string("profile ") + p + ": " + row(profile).unsupported_reason;
      break;
    case Claim::kPreserved:
      r.outcome = held ? Outcome::kPass : Outcome::kFail;
      break;
    case Claim::kBroken:
      // The profile predicts the break. A kernel that preserved it anyway breaks the expectation
      // too: the profile under-claims, and the run would hide a regression the other way.
      r.outcome = held ? Outcome::kFail : Outcome::kXfail;
      if (held) r.diagnosis = "preserved although profile " + p + " predicts it breaks; choose a stronger --profile. " + r.diagnosis;
      else r.diagnosis = "expected under profile " + p + ": " + r.diagnosis;
      break;
  }
  return r;
}

}  // namespace lu::stages
