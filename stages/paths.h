// Where a run keeps its files. Every path comes from the command line (run and state dir) and
// the run's identity, never from a stored state: a crafted state cannot make lu-test write
// anywhere else.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace lu::stages {

// state_dir must be persistent storage (never tmpfs on a real machine: the post stage reads
// it after the kexec); run_dir holds sockets and logs of this boot.
struct Paths {
  std::string run_dir;
  std::string state_dir;

  std::string state_file() const { return state_dir + "/state.bin"; }
  std::string last_state_file() const { return state_dir + "/state.last.bin"; }
  std::string records_dir() const { return state_dir + "/records"; }
  // records/iteration-000012-<run>.ktap: sorted by iteration, one file per attempt.
  std::string record_file(std::uint32_t iteration, const std::string& run_id) const {
    return records_dir() + "/" + record_stem(iteration, run_id) + ".ktap";
  }
  std::string post_journal(std::uint32_t iteration, const std::string& run_id) const {
    return records_dir() + "/" + record_stem(iteration, run_id) + ".journal";
  }
  // Written by the holder right before the kexec syscall: when the blackout began.
  std::string kexec_note(std::uint32_t iteration, const std::string& run_id) const {
    return records_dir() + "/" + record_stem(iteration, run_id) + ".kexec";
  }
  std::string ktap_file() const { return state_dir + "/lu-test.ktap"; }  // the newest record
  std::string loop_dir() const { return state_dir + "/loop"; }
  std::string holder_socket() const { return run_dir + "/holder.sock"; }
  std::string holder_log() const { return run_dir + "/holder.log"; }
  std::string holder_note() const { return run_dir + "/holder.died"; }

  static std::string record_stem(std::uint32_t iteration, const std::string& run_id) {
    char n[16];
    std::snprintf(n, sizeof n, "%06u", iteration);
    return std::string("iteration-") + n + "-" + run_id;
  }
};

}  // namespace lu::stages
