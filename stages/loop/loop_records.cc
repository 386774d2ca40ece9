#include "stages/loop/loop_records.h"

#include <unistd.h>

#include <cerrno>

#include "base/files.h"
#include "state/envelope.h"

namespace lu::stages::loop {
namespace {

constexpr state::EnvelopeKind kPlanKind{{'L', 'U', 'T', 'L', 'O', 'O', 'P', 'P'}, 1, "loop plan", 1u << 20};
constexpr state::EnvelopeKind kLedgerKind{{'L', 'U', 'T', 'L', 'O', 'O', 'P', 'L'}, 1, "loop ledger", 64u << 20};

template <class T>
Result<T> load(const state::EnvelopeKind& kind, const std::string& path) {
  auto bytes = read_binary_file(path, kind.max_payload + state::kEnvelopeHeader);
  if (!bytes) {
    if (bytes.error().kind == ErrorKind::kNotFound)
      return fail(ErrorKind::kNoState, std::string("load ") + kind.what, path,
                  "no loop was started here: `lu-test loop start` begins one");
    return fail(bytes.error());
  }
  return state::decode_record<T>(kind, *bytes, path);
}

}  // namespace

const char* stop_on_name(StopOn s) {
  switch (s) {
    case StopOn::kNever: return "never";
    case StopOn::kFail: return "fail";
    case StopOn::kError: return "error";
  }
  return "?";
}

Status save_plan(const LoopFiles& f, const LoopPlan& plan) {
  LU_TRY_VOID(make_directories(f.dir));
  return write_file_atomic(f.plan(), state::encode_record(kPlanKind, plan));
}
Result<LoopPlan> load_plan(const LoopFiles& f) { return load<LoopPlan>(kPlanKind, f.plan()); }

Status save_ledger(const LoopFiles& f, const LoopLedger& ledger) {
  LU_TRY_VOID(make_directories(f.dir));
  return write_file_atomic(f.ledger(), state::encode_record(kLedgerKind, ledger));
}
Result<LoopLedger> load_ledger(const LoopFiles& f) { return load<LoopLedger>(kLedgerKind, f.ledger()); }

bool loop_active(const LoopFiles& f) { return path_exists(f.active()); }

Status set_active(const LoopFiles& f, bool active) {
  if (!active) {
    if (::unlink(f.active().c_str()) != 0 && errno != ENOENT)
      return fail(ErrorKind::kSystem, "unlink", f.active(), "the loop would look active to the boot units", errno);
    return {};
  }
  std::string text = "lu-test loop active\n";
  return write_file_atomic(f.active(), {text.begin(), text.end()});
}

}  // namespace lu::stages::loop
