// Where the state lives across the kexec: a memfd preserved in lu-test's own LUO session
// (the primary store), and a file written atomically (the fallback and the human-readable copy).
#pragma once

#include <string>

#include "base/result.h"
#include "luo/luo.h"
#include "state/records.h"

namespace lu::state {

class FileStore {
 public:
  explicit FileStore(std::string path) : path_(std::move(path)) {}
  Status save(const RunState& state) const;
  // kNoState when there is no file; kCorruptState / kIncompatibleState when it cannot be used.
  Result<RunState> load() const;
  Status remove() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes the encoded state into a fresh memfd and preserves it under kStateToken.
Status save_to_session(luo::Session& session, const RunState& state);
Result<RunState> load_from_session(luo::Session& session);

}  // namespace lu::state
