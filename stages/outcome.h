// Check outcomes and expectation profiles: what the kernel under test claims to preserve
// decides whether a broken continuity is a FAIL or an expected outcome (XFAIL).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lu::stages {

enum class Outcome { kPass, kFail, kError, kSkip, kXfail };
const char* outcome_name(Outcome o);

struct CheckResult {
  std::string name;
  Outcome outcome = Outcome::kError;
  std::string diagnosis;                                   // why, in one or two sentences
  std::vector<std::pair<std::string, std::string>> facts;  // numbers and ids, printed as diagnostics
};

enum class Profile { kNone, kMemfd, kVfioBase, kVfioFull, kAuto };
std::optional<Profile> parse_profile(const std::string& name);
const char* profile_name(Profile p);

// What a check depends on; each profile claims or denies each capability.
enum class Capability { kSessions, kDeviceFd, kBusMaster, kConfigSpace, kDmaContinuity };
enum class Claim { kPreserved, kBroken, kUnsupported };
Claim claim(Profile profile, Capability capability);

// A continuity observation judged against the profile: PASS, FAIL or XFAIL (or SKIP when the
// profile says the kernel has no such capability at all).
CheckResult judge(std::string name, Profile profile, Capability capability, bool held, std::string detail);

}  // namespace lu::stages
