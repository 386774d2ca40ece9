// A nightly loop as it crosses boots: the plan (budgets, stop rules, the kernels to alternate)
// and the ledger (one entry per iteration, never truncated), both in STATE_DIR/loop/, each in
// its own envelope, written atomically. STATE_DIR/loop/active exists while the loop runs: a
// systemd unit conditions on it to run lu-test on a boot that carries no nonce (a MISS).
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "stages/paths.h"

namespace lu::stages::loop {

enum class StopOn : std::uint8_t { kNever, kFail, kError };
const char* stop_on_name(StopOn s);

struct LoopKernel {
  std::string kernel, initrd, append;  // empty kernel: the machine's own
  std::string release;                 // what it boots (from the image's header); empty: unknown
  template <class A>
  void serialize(A& a) { a(kernel, initrd, append, release); }
};

struct LoopPlan {
  std::string loop_id;
  std::int64_t started_ns = 0;
  std::uint32_t iterations = 0;  // 0: no count budget
  std::int64_t duration_ns = 0;  // 0: no time budget
  std::uint8_t stop_on_rule = 0;  // a StopOn (stored as a byte: the envelope holds plain data)
  StopOn stop_on() const { return stop_on_rule <= 2 ? static_cast<StopOn>(stop_on_rule) : StopOn::kNever; }
  std::uint32_t max_consecutive_failures = 0;  // 0: no such rule
  std::vector<LoopKernel> kernels;             // alternated A, B, A, ...; one entry at least
  std::string profile;
  std::vector<std::string> devices;
  std::uint64_t dma_size = 0;
  std::string backend;
  bool stop_requested = false;
  template <class A>
  void serialize(A& a) {
    a(loop_id, started_ns, iterations, duration_ns, stop_on_rule, max_consecutive_failures, kernels, profile, devices,
      dma_size, backend, stop_requested);
  }
};

struct IterationEntry {
  std::uint32_t index = 0;      // 1-based, inside the loop
  std::uint32_t iteration = 0;  // the state dir's iteration number (the record's name)
  std::string run_id, nonce;
  std::string verdict;          // PASS FAIL ERROR SKIP MISS
  std::string kernel_before, kernel_after, expected_release;
  std::string boot_before, boot_after;
  std::int64_t pre_ms = -1, blackout_ms = -1, post_ms = -1;  // -1: not measured
  std::uint64_t dma_gap_copies = 0;  // DMA copies made during the blackout, all devices
  std::string record;                // the KTAP record's path
  std::string note;                  // a MISS: what is known
  std::string decision;              // "continue: iteration 4 armed" / "stop: ..."
  std::int64_t finished_ns = 0;
  template <class A>
  void serialize(A& a) {
    a(index, iteration, run_id, nonce, verdict, kernel_before, kernel_after, expected_release, boot_before, boot_after,
      pre_ms, blackout_ms, post_ms, dma_gap_copies, record, note, decision, finished_ns);
  }
};

struct LoopLedger {
  std::string loop_id;
  std::vector<IterationEntry> entries;
  bool ended = false;
  std::string end_reason;
  std::int64_t ended_ns = 0;
  template <class A>
  void serialize(A& a) { a(loop_id, entries, ended, end_reason, ended_ns); }
};

struct LoopFiles {
  explicit LoopFiles(const Paths& paths) : dir(paths.loop_dir()) {}
  std::string dir;
  std::string plan() const { return dir + "/plan.bin"; }
  std::string ledger() const { return dir + "/ledger.bin"; }
  std::string active() const { return dir + "/active"; }
};

Status save_plan(const LoopFiles& f, const LoopPlan& plan);
Result<LoopPlan> load_plan(const LoopFiles& f);  // kNoState when there is none
Status save_ledger(const LoopFiles& f, const LoopLedger& ledger);
Result<LoopLedger> load_ledger(const LoopFiles& f);
bool loop_active(const LoopFiles& f);
Status set_active(const LoopFiles& f, bool active);

}  // namespace lu::stages::loop
