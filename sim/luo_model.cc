#include "sim/luo_model.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cereal/archives/binary.hpp>
#include <cerrno>
#include <sstream>

namespace lu::sim {
namespace {
std::unexpected<Error> kernel_error(int err, const char* op, const std::string& subject) {
  return fail(ErrorKind::kSystem, op, subject, "simulated kernel", err);
}
}  // namespace

LuoModel LuoModel::boot(bool enabled, Handover handover) {
  LuoModel model(enabled);
  if (!enabled) return model;
  std::vector<HandoverSession> sessions;
  try {
    std::istringstream is(std::string(handover.blob.begin(), handover.blob.end()));
    cereal::BinaryInputArchive a(is);
    a(sessions);
  } catch (const std::exception&) {
    model.broken_handover_ = true;
    return model;
  }
  std::vector<std::shared_ptr<UniqueFd>> memory;
  for (auto& fd : handover.memory) memory.push_back(std::make_shared<UniqueFd>(std::move(fd)));
  for (auto& s : sessions) {
    Incoming in;
    in.name = s.name;
    for (auto& f : s.files) {
      InFile file;
      file.file = f;
      if (f.kind == "memfd" && f.memory < memory.size()) file.memory = memory[f.memory];
      in.files.emplace(f.token, std::move(file));
    }
    model.incoming_.push_back(std::move(in));
  }
  return model;
}

int LuoModel::open_error() const {
  if (!enabled_) return ENOENT;
  if (broken_handover_) return EIO;
  return 0;
}

bool LuoModel::name_in_use(const std::string& name) const {
  for (auto& [id, s] : outgoing_)
    if (s.name == name) return true;
  for (auto& s : incoming_)
    if (s.name == name && !s.finished) return true;
  return false;
}

Result<SessionId> LuoModel::create_session(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.find('\0') != std::string::npos)
    return kernel_error(EINVAL, "create_session", name);
  if (name_in_use(name)) return kernel_error(EEXIST, "create_session", name);
  SessionId id = next_id_++;
  outgoing_.emplace(id, Outgoing{name, {}});
  return id;
}

Result<SessionId> LuoModel::retrieve_session(const std::string& name) {
  for (auto& s : incoming_) {
    if (s.name != name) continue;
    if (s.finished && !keep_finished_) continue;
    if (s.retrieved && !(s.finished && keep_finished_)) return kernel_error(EINVAL, "retrieve_session", name);
    s.retrieved = true;
    s.finished = false;
    s.id = next_id_++;
    return s.id;
  }
  return kernel_error(ENOENT, "retrieve_session", name);
}

Status LuoModel::preserve_fd(SessionId id, UniqueFd fd, const FileIdentity& identity, std::uint64_t token) {
  auto it = outgoing_.find(id);
  if (it == outgoing_.end()) return kernel_error(EINVAL, "preserve_fd", "incoming session");
  if (!fd) return kernel_error(EBADF, "preserve_fd", "fd");
  if (identity.kind.empty() || (identity.kind == "vfio-device" && !identity.cdev))
    return kernel_error(ENOENT, "preserve_fd", "no handler");
  if (it->second.files.count(token)) return kernel_error(EEXIST, "preserve_fd", std::to_string(token));
  for (auto& [sid, s] : outgoing_)
    for (auto& [t, f] : s.files)
      if (f.identity.inode == identity.inode && f.identity.kind == identity.kind &&
          f.identity.device == identity.device)
        return kernel_error(EBUSY, "preserve_fd", "already preserved");
  it->second.files.emplace(token, OutFile{std::move(fd), identity});
  return {};
}

Result<UniqueFd> LuoModel::retrieve_fd(SessionId id, std::uint64_t token,
                                       const std::function<Result<UniqueFd>(const std::string&)>& device_opener) {
  for (auto& s : incoming_) {
    if (s.id != id || !s.retrieved) continue;
    auto f = s.files.find(token);
    if (f == s.files.end() || f->second.failed) return kernel_error(ENOENT, "retrieve_fd", std::to_string(token));
    if (f->second.file.kind == "memfd") {
      if (!f->second.memory || !*f->second.memory) {
        f->second.failed = true;
        return kernel_error(ENOENT, "retrieve_fd", "memory lost");
      }
      int dup = ::fcntl(f->second.memory->get(), F_DUPFD_CLOEXEC, 0);
      if (dup < 0) return kernel_error(errno, "retrieve_fd", "dup");
      f->second.retrieved = true;
      return UniqueFd(dup);
    }
    auto device = device_opener(f->second.file.device);
    if (!device) {
      f->second.failed = true;  // a failed retrieve fails the same way forever
      return kernel_error(ENOENT, "retrieve_fd", f->second.file.device);
    }
    f->second.retrieved = true;
    return device;
  }
  for (auto& [oid, s] : outgoing_)
    if (oid == id) return kernel_error(EINVAL, "retrieve_fd", "outgoing session");
  return kernel_error(EINVAL, "retrieve_fd", "session");
}

Status LuoModel::finish(SessionId id, const std::function<bool(const std::string&)>& device_ready) {
  for (auto& s : incoming_) {
    if (s.id != id || !s.retrieved) continue;
    if (refuse_finish_) return kernel_error(EBUSY, "finish", s.name);
    for (auto& [t, f] : s.files)
      if (f.file.kind == "vfio-device" && (!f.retrieved || !device_ready(f.file.device)))
        return kernel_error(EBUSY, "finish", s.name);
    s.finished = true;
    return {};
  }
  return kernel_error(EINVAL, "finish", "not a retrieved incoming session");
}

Result<std::string> LuoModel::name(SessionId id) const {
  auto it = outgoing_.find(id);
  if (it != outgoing_.end()) return it->second.name;
  for (auto& s : incoming_)
    if (s.id == id && s.retrieved) return s.name;
  return kernel_error(EINVAL, "get_name", "session");
}

void LuoModel::close_session(SessionId id) {
  if (outgoing_.erase(id)) return;  // unpreserves everything in it
  for (auto& s : incoming_)
    if (s.id == id && s.retrieved) s.finished = true;  // implicit FINISH
}

bool LuoModel::device_held_by_luo(const std::string& bdf) const {
  for (auto& s : incoming_) {
    if (s.finished) continue;
    for (auto& [t, f] : s.files)
      if (f.file.kind == "vfio-device" && f.file.device == bdf && !f.retrieved) return true;
  }
  return false;
}

std::vector<std::string> LuoModel::outgoing_devices() const {
  std::vector<std::string> out;
  for (auto& [id, s] : outgoing_)
    for (auto& [t, f] : s.files)
      if (f.identity.kind == "vfio-device") out.push_back(f.identity.device);
  return out;
}

std::vector<std::string> LuoModel::outgoing_names() const {
  std::vector<std::string> out;
  for (auto& [id, s] : outgoing_) out.push_back(s.name);
  return out;
}

Handover LuoModel::freeze() const {
  Handover h;
  std::vector<HandoverSession> sessions;
  for (auto& [id, s] : outgoing_) {
    HandoverSession hs{s.name, {}};
    for (auto& [token, f] : s.files) {
      HandoverFile hf{token, f.identity.kind, 0, f.identity.device};
      if (f.identity.kind == "memfd") {
        hf.memory = h.memory.size();
        h.memory.emplace_back(::fcntl(f.fd.get(), F_DUPFD_CLOEXEC, 0));
      }
      hs.files.push_back(hf);
    }
    sessions.push_back(std::move(hs));
  }
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive a(os);
    a(sessions);
  }
  auto s = os.str();
  h.blob.assign(s.begin(), s.end());
  return h;
}

}  // namespace lu::sim
