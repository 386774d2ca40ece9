#include "stages/outcome.h"

namespace lu::stages {
namespace {

constexpr ProfileInfo kProfiles[] = {
    {Profile::kNone, "none", "any kernel: a plain kexec, the negative control", Claim::kBroken, Claim::kBroken,
     Claim::kBroken, Claim::kBroken, Claim::kBroken},
    {Profile::kMemfd, "memfd", "mainline 6.19+: LUO sessions and memfds", Claim::kPreserved, Claim::kUnsupported,
     Claim::kUnsupported, Claim::kUnsupported, Claim::kUnsupported},
    {Profile::kVfioBase, "vfio-base", "VFIO live-update base series: the device fd survives, the device is reset",
     Claim::kPreserved, Claim::kPreserved, Claim::kBroken, Claim::kBroken, Claim::kBroken},
    {Profile::kVfioPci, "vfio-pci", "plus the PCI live-update series: bus master and config space kept, DMA stops",
     Claim::kPreserved, Claim::kPreserved, Claim::kPreserved, Claim::kPreserved, Claim::kBroken},
    {Profile::kVfioFull, "vfio-full", "plus the IOMMUFD series: translations kept, DMA runs through the kexec",
     Claim::kPreserved, Claim::kPreserved, Claim::kPreserved, Claim::kPreserved, Claim::kPreserved},
};

const ProfileInfo& row(Profile p) {
  for (auto& r : kProfiles)
    if (r.profile == p) return r;
  return kProfiles[1];  // auto is resolved before judging; memfd is the mainline default
}

constexpr const char* kUnsupportedReason =
    "the kernel preserves memfds only: it has no LUO file handler for VFIO devices";

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

std::span<const ProfileInfo> profile_table() { return kProfiles; }

const char* capability_name(Capability c) {
  switch (c) {
    case Capability::kSessions: return "sessions and memfds";
    case Capability::kDeviceFd: return "device fd";
    case Capability::kBusMaster: return "bus master";
    case Capability::kConfigSpace: return "config space";
    case Capability::kDmaContinuity: return "DMA continuity";
  }
  return "?";
}

const char* claim_name(Claim c) {
  switch (c) {
    case Claim::kPreserved: return "preserved";
    case Claim::kBroken: return "breaks (XFAIL)";
    case Claim::kUnsupported: return "SKIP";
  }
  return "?";
}

std::optional<Profile> strongest_profile(const Capabilities& caps) {
  if (!caps.luo()) return std::nullopt;
  if (caps.device_fd && caps.device_state && caps.dma) return Profile::kVfioFull;
  if (caps.device_fd && caps.device_state) return Profile::kVfioPci;
  if (caps.device_fd) return Profile::kVfioBase;
  return Profile::kMemfd;
}

std::string profile_reason(const Capabilities& caps) {
  auto p = strongest_profile(caps);
  if (!p) return "no LUO: " + caps.luo_problem;
  return std::string(row(*p).kernel) + " (from " + caps.source + ")";
}

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

CheckResult judge(std::string name, Profile profile, Capability capability, bool held, std::string detail,
                  bool explicit_profile) {
  CheckResult r{std::move(name), Outcome::kPass, std::move(detail), {}};
  const std::string p = profile_name(profile);
  switch (claim(profile, capability)) {
    case Claim::kUnsupported:
      r.outcome = Outcome::kSkip;
      r.diagnosis = std::string("profile ") + p + ": " + kUnsupportedReason;
      break;
    case Claim::kPreserved:
      r.outcome = held ? Outcome::kPass : Outcome::kFail;
      break;
    case Claim::kBroken:
      if (!explicit_profile) {
        // auto chose this profile from the probe: the kernel has no such capability. A kernel
        // that kept it anyway did better than its probe said, which is not a failure.
        r.outcome = held ? Outcome::kPass : Outcome::kSkip;
        r.diagnosis = held ? "preserved although the probe found no support for " + std::string(capability_name(capability)) +
                                 " (profile auto: " + p + ")"
                           : "the kernel does not preserve " + std::string(capability_name(capability)) +
                                 " (profile auto: " + p + "). " + r.diagnosis;
        break;
      }
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
