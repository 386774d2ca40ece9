// Check outcomes and expectation profiles: what the kernel under test claims to preserve
// decides whether a broken continuity is a FAIL or an expected outcome (XFAIL).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "machine/machine.h"

namespace lu::stages {

enum class Outcome { kPass, kFail, kError, kSkip, kXfail };
const char* outcome_name(Outcome o);

struct CheckResult {
  std::string name;
  Outcome outcome = Outcome::kError;
  std::string diagnosis;                                   // why, in one or two sentences
  std::vector<std::pair<std::string, std::string>> facts;  // numbers and ids, printed as diagnostics
};

enum class Profile { kNone, kMemfd, kVfioBase, kVfioPci, kVfioFull, kAuto };
std::optional<Profile> parse_profile(const std::string& name);
const char* profile_name(Profile p);

// What a check depends on; each profile claims or denies each capability.
enum class Capability { kSessions, kDeviceFd, kBusMaster, kConfigSpace, kDmaContinuity };
enum class Claim { kPreserved, kBroken, kUnsupported };
Claim claim(Profile profile, Capability capability);
const char* capability_name(Capability c);
const char* claim_name(Claim c);

// The profile table, for `lu-test list --profiles` and the docs.
struct ProfileInfo {
  Profile profile;
  const char* name;
  const char* kernel;  // which kernels claim this
  Claim sessions, device_fd, bus_master, config_space, dma;
};
std::span<const ProfileInfo> profile_table();

// `--profile auto`: the strongest profile the probe can justify, or nullopt when the kernel has
// no LUO at all (the run is then SKIP, never a PASS made of expected failures).
std::optional<Profile> strongest_profile(const Capabilities& caps);
// One sentence: why strongest_profile chose what it chose.
std::string profile_reason(const Capabilities& caps);

// A continuity observation judged against the profile: PASS, FAIL or XFAIL (or SKIP when the
// profile says the kernel has no such capability at all). XFAIL only for a profile the user
// chose (`explicit_profile`); a profile `auto` resolved to predicts breaks only for what the
// kernel lacks, which is a SKIP (capability missing), never an expected failure.
CheckResult judge(std::string name, Profile profile, Capability capability, bool held, std::string detail,
                  bool explicit_profile = true);

}  // namespace lu::stages
