// Everything the post stage needs from the pre stage, as cereal-serializable records.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/parse.h"

namespace lu::state {

// Bump when a record changes shape; the envelope refuses other versions.
inline constexpr std::uint32_t kSchemaVersion = 1;
inline constexpr char kStateSessionName[] = "lu-test.state";
inline constexpr std::uint64_t kStateToken = 1;

struct FileRecord {
  std::uint64_t token = 0;
  std::string kind;   // "memfd", "vfio-device"
  std::string label;  // what the scenario calls it
  std::uint64_t size = 0;
  std::uint64_t digest = 0;
  template <class A>
  void serialize(A& a) { a(token, kind, label, size, digest); }
};

struct SessionRecord {
  std::string name;
  std::string scenario;
  std::vector<FileRecord> files;
  template <class A>
  void serialize(A& a) { a(name, scenario, files); }
};

// Free-form facts a scenario wants back after the kexec (snapshots, samples, ids).
struct ScenarioRecord {
  std::string name;
  std::map<std::string, std::string> facts;
  std::map<std::string, std::vector<std::uint8_t>> blobs;
  template <class A>
  void serialize(A& a) { a(name, facts, blobs); }

  std::string fact(const std::string& key) const {
    auto it = facts.find(key);
    return it == facts.end() ? std::string() : it->second;
  }
  // A numeric fact; nullopt when absent or not a number (a damaged or crafted state).
  template <class T = std::uint64_t>
  std::optional<T> number(const std::string& key) const {
    return parse_number<T>(fact(key));
  }
};

struct RunState {
  std::string run_id;
  std::uint32_t iteration = 0;
  std::string nonce;
  std::string backend;  // "kernel" | "sim"
  std::string profile;  // the expectation profile judged against
  std::string kernel_release_before;
  std::string boot_id_before;
  std::string armed_cmdline;
  std::string armed_kernel;
  std::int64_t pre_started_ns = 0;   // CLOCK_REALTIME: the only clock that crosses a kexec
  std::int64_t pre_finished_ns = 0;
  std::int64_t kexec_requested_ns = 0;
  std::vector<std::string> planned_checks;  // KTAP plan, numbered in order
  std::uint32_t ktap_next = 1;              // the number the post stage continues with
  std::string ktap_path;
  std::vector<SessionRecord> sessions;      // every session preserved, state session excluded
  std::vector<std::string> previous_sessions;  // last iteration's names: must be gone now
  std::vector<ScenarioRecord> scenarios;

  template <class A>
  void serialize(A& a) {
    a(run_id, iteration, nonce, backend, profile, kernel_release_before, boot_id_before, armed_cmdline,
      armed_kernel, pre_started_ns, pre_finished_ns, kexec_requested_ns, planned_checks, ktap_next, ktap_path,
      sessions, previous_sessions, scenarios);
  }

  ScenarioRecord& scenario(const std::string& name);
  const ScenarioRecord* find_scenario(const std::string& name) const;
};

}  // namespace lu::state
