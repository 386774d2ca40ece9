#include "state/store.h"

#include <unistd.h>

#include <cerrno>

#include "base/files.h"
#include "base/memfd.h"
#include "state/codec.h"

namespace lu::state {

Status FileStore::save(const RunState& state) const { return write_file_atomic(path_, encode(state)); }

Result<RunState> FileStore::load() const {
  auto bytes = read_binary_file(path_, kHeaderSize + kMaxPayload);
  if (!bytes) {
    if (bytes.error().kind == ErrorKind::kNotFound)
      return fail(ErrorKind::kNoState, "load state", path_, "no run is armed: run `lu-test stage pre` first");
    return fail(bytes.error());
  }
  return decode(*bytes, path_);
}

Status FileStore::remove() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
    return fail(ErrorKind::kSystem, "unlink", path_, "check permissions on the state directory", errno);
  return {};
}

Status save_to_session(luo::Session& session, const RunState& state) {
  auto bytes = encode(state);
  auto memfd = LU_TRY(create_memfd("lu-test-state", bytes));
  // LUO takes its own reference; our copy can close when this returns.
  return session.preserve_fd(memfd.get(), kStateToken);
}

Result<RunState> load_from_session(luo::Session& session) {
  auto fd = LU_TRY(session.retrieve_fd(kStateToken));
  auto bytes = LU_TRY(read_whole_fd(fd.get(), kHeaderSize + kMaxPayload));
  return decode(bytes, "state memfd in session " + session.name());
}

}  // namespace lu::state
