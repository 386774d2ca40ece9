#include "sim/machine_model.h"

#include <unistd.h>

#include <cereal/archives/binary.hpp>
#include <cerrno>
#include <random>
#include <sstream>

#include "state/records.h"

namespace lu::sim {
namespace {

std::string random_uuid() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += "0123456789abcdef"[hex(rd)];
  }
  return out;
}

constexpr struct {
  KernelProfile profile;
  const char* name;
  const char* release;
  bool luo;
} kProfiles[] = {
    {KernelProfile::kNone, "none", "6.1.0-sim", false},
    {KernelProfile::kMemfd, "memfd", "6.19.0-sim", true},
    {KernelProfile::kVfioBase, "vfio-base", "7.3.0-sim+vfio", true},
    {KernelProfile::kVfioFull, "vfio-full", "7.4.0-sim+vfio-full", true},
};

std::vector<HandoverSession> parse(const Handover& h) {
  std::vector<HandoverSession> sessions;
  std::istringstream is(std::string(h.blob.begin(), h.blob.end()));
  cereal::BinaryInputArchive a(is);
  a(sessions);
  return sessions;
}

void store(Handover& h, const std::vector<HandoverSession>& sessions) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive a(os);
    a(sessions);
  }
  auto s = os.str();
  h.blob.assign(s.begin(), s.end());
}

}  // namespace

std::optional<KernelProfile> parse_kernel_profile(const std::string& name) {
  for (auto& p : kProfiles)
    if (name == p.name) return p.profile;
  return std::nullopt;
}

const char* kernel_profile_name(KernelProfile profile) {
  for (auto& p : kProfiles)
    if (p.profile == profile) return p.name;
  return "?";
}

MachineModel::MachineModel(KernelProfile profile) : profile_(profile) {
  bool luo = false;
  for (auto& p : kProfiles)
    if (p.profile == profile) {
      release_ = p.release;
      luo = p.luo;
    }
  default_cmdline_ = "console=ttyS0 root=/dev/vda ro";
  if (luo) default_cmdline_ += " kho=on liveupdate=on";
  boot(default_cmdline_, Handover{});
}

void MachineModel::boot(std::string cmdline, Handover handover) {
  cmdline_ = std::move(cmdline);
  boot_id_ = random_uuid();
  ++boots_;
  bool luo = profile_ != KernelProfile::kNone;
  luo_ = handover.blob.empty() ? LuoModel(luo) : LuoModel::boot(luo, std::move(handover));
  luo_.refuse_finish(has_fault(Fault::kFinishRefused));
  luo_.keep_finished_sessions(has_fault(Fault::kSessionNotReleased));
}

int MachineModel::check_freeze() {
  if (!armed_) return EINVAL;
  if (has_fault(Fault::kFreezeRefused)) {
    faults_.erase(Fault::kFreezeRefused);  // refuse once, as a handler with a transient problem would
    return EAGAIN;
  }
  return 0;
}

void MachineModel::apply_handover_faults(Handover& handover) {
  if (!has_fault(Fault::kSessionLost) && !has_fault(Fault::kMemfdByteFlipped)) return;
  auto sessions = parse(handover);
  auto is_ours = [](const HandoverSession& s) { return s.name == state::kStateSessionName; };
  if (has_fault(Fault::kSessionLost)) {
    for (auto it = sessions.begin(); it != sessions.end(); ++it)
      if (!is_ours(*it)) {
        sessions.erase(it);
        break;
      }
  }
  if (has_fault(Fault::kMemfdByteFlipped)) {
    bool flipped = false;
    for (auto& s : sessions) {
      if (is_ours(s) || flipped) continue;
      for (auto& f : s.files) {
        if (f.kind != "memfd" || f.memory >= handover.memory.size()) continue;
        int fd = handover.memory[f.memory].get();
        off_t size = ::lseek(fd, 0, SEEK_END);
        if (size <= 0) continue;
        std::uint8_t byte = 0;
        off_t at = size / 2;
        if (::pread(fd, &byte, 1, at) != 1) continue;
        byte ^= 0x10;
        flipped = ::pwrite(fd, &byte, 1, at) == 1;
        if (flipped) break;
      }
    }
  }
  store(handover, sessions);
}

void MachineModel::kexec() {
  Handover handover = profile_ == KernelProfile::kNone ? Handover{} : luo_.freeze();
  std::string cmdline = armed_ ? armed_->cmdline : default_cmdline_;
  if (has_fault(Fault::kFirmwareReboot)) {
    handover = Handover{};  // firmware wipes memory: nothing crosses
    cmdline = default_cmdline_;
  } else {
    apply_handover_faults(handover);
  }
  armed_.reset();
  boot(std::move(cmdline), std::move(handover));
  // Handover faults fire once; faults of the new kernel (finish, leaks) stay for this boot.
  faults_.erase(Fault::kSessionLost);
  faults_.erase(Fault::kMemfdByteFlipped);
  faults_.erase(Fault::kFirmwareReboot);
  faults_.erase(Fault::kHolderKilled);
}

}  // namespace lu::sim
