// The kernel half of LUO on the simulated machine: sessions, preserve / retrieve / finish with
// the rules and errno values of reference/luo.md. Sockets and processes live in server.cc;
// this class only keeps the state and answers with errnos, so it is unit-testable on its own.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace lu::sim {

using SessionId = std::uint64_t;

// What a preserved file is, as far as the handover is concerned.
struct HandoverFile {
  std::uint64_t token = 0;
  std::string kind;        // "memfd" | "vfio-device"
  std::uint64_t memory = 0;  // memfd: index into Handover::memory
  std::string device;        // vfio-device: BDF
  template <class A>
  void serialize(A& a) { a(token, kind, memory, device); }
};
struct HandoverSession {
  std::string name;
  std::vector<HandoverFile> files;
  template <class A>
  void serialize(A& a) { a(name, files); }
};

// What crosses the simulated kexec: a serialized blob, plus the preserved memory it points
// into (KHO keeps pages, not copies: a DMA engine writing during the blackout is visible after).
struct Handover {
  std::vector<std::uint8_t> blob;  // cereal of std::vector<HandoverSession>
  std::vector<UniqueFd> memory;    // memfds, indexed by HandoverFile::memory
};

// How the LUO model learns what kind of file an fd is (the server classifies sockets it owns).
struct FileIdentity {
  std::string kind;    // "memfd", "vfio-device", or "" for anything no handler accepts
  std::string device;  // for vfio-device
  std::uint64_t inode = 0;
  bool cdev = true;    // vfio-device: only cdev fds are preservable
};

class LuoModel {
 public:
  explicit LuoModel(bool enabled) : enabled_(enabled) {}
  // Boots from a handover; a blob that fails to parse makes every open fail with EIO (sticky).
  static LuoModel boot(bool enabled, Handover handover);

  bool enabled() const { return enabled_; }
  int open_error() const;  // 0, ENOENT (disabled) or EIO (bad handover)

  Result<SessionId> create_session(const std::string& name);
  Result<SessionId> retrieve_session(const std::string& name);
  Status preserve_fd(SessionId id, UniqueFd fd, const FileIdentity& identity, std::uint64_t token);
  // memfd: a new fd for the same memory; vfio-device: `device_opener` makes the device fd.
  Result<UniqueFd> retrieve_fd(SessionId id, std::uint64_t token,
                               const std::function<Result<UniqueFd>(const std::string& bdf)>& device_opener);
  Status finish(SessionId id, const std::function<bool(const std::string& bdf)>& device_ready);
  Result<std::string> name(SessionId id) const;
  // The last fd of a session closed: outgoing unpreserves, a retrieved incoming one finishes.
  void close_session(SessionId id);

  // Preserved (incoming, not yet retrieved) devices: reopening them outside LUO gives EBUSY.
  bool device_held_by_luo(const std::string& bdf) const;
  // The outgoing devices (for the machine's freeze rules).
  std::vector<std::string> outgoing_devices() const;

  Handover freeze() const;

  // Fault hook: finished sessions stay retrievable.
  void keep_finished_sessions(bool keep) { keep_finished_ = keep; }
  void refuse_finish(bool refuse) { refuse_finish_ = refuse; }

  std::size_t outgoing_count() const { return outgoing_.size(); }
  std::size_t incoming_count() const { return incoming_.size(); }
  std::vector<std::string> outgoing_names() const;

 private:
  struct OutFile {
    UniqueFd fd;
    FileIdentity identity;
  };
  struct Outgoing {
    std::string name;
    std::map<std::uint64_t, OutFile> files;
  };
  struct InFile {
    HandoverFile file;
    std::shared_ptr<UniqueFd> memory;
    bool retrieved = false;
    bool failed = false;
  };
  struct Incoming {
    std::string name;
    std::map<std::uint64_t, InFile> files;
    bool retrieved = false;
    bool finished = false;
    SessionId id = 0;
  };

  bool name_in_use(const std::string& name) const;

  bool enabled_;
  bool broken_handover_ = false;
  bool keep_finished_ = false;
  bool refuse_finish_ = false;
  SessionId next_id_ = 1;
  std::map<SessionId, Outgoing> outgoing_;
  std::vector<Incoming> incoming_;
};

}  // namespace lu::sim
