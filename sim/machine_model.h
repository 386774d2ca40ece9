// The simulated machine's kernel half above LUO: boot facts, the armed kexec image, faults,
// and the kexec itself (freeze, handover, boot of a fresh kernel object). No sockets here.
#pragma once

#include <optional>
#include <string>

#include "sim/faults.h"
#include "sim/luo_model.h"

namespace lu::sim {

// What the emulated kernel claims to preserve; mirrors the expectation profiles.
enum class KernelProfile { kNone, kMemfd, kVfioBase, kVfioFull };
std::optional<KernelProfile> parse_kernel_profile(const std::string& name);
const char* kernel_profile_name(KernelProfile p);

struct ArmedImage {
  std::string kernel, initrd, cmdline;
};

class MachineModel {
 public:
  explicit MachineModel(KernelProfile profile);

  KernelProfile profile() const { return profile_; }
  LuoModel& luo() { return luo_; }
  const std::string& cmdline() const { return cmdline_; }
  const std::string& boot_id() const { return boot_id_; }
  const std::string& release() const { return release_; }
  std::uint64_t boots() const { return boots_; }

  void arm(ArmedImage image) { armed_ = std::move(image); }
  void disarm() { armed_.reset(); }
  bool armed() const { return armed_.has_value(); }

  void add_fault(Fault f) { faults_.insert(f); }
  const FaultSet& faults() const { return faults_; }
  bool has_fault(Fault f) const { return faults_.count(f) != 0; }
  void clear_fault(Fault f) { faults_.erase(f); }

  // The part of reboot(KEXEC) before anything is torn down: 0 if the kexec may proceed, else
  // the errno the syscall returns (EINVAL nothing armed, EAGAIN a file refused to freeze).
  int check_freeze();
  // Boots the next kernel from what LUO preserved (or from firmware, under kFirmwareReboot).
  void kexec();

 private:
  void boot(std::string cmdline, Handover handover);
  void apply_handover_faults(Handover& handover);

  KernelProfile profile_;
  std::string default_cmdline_;
  std::string cmdline_, boot_id_, release_;
  std::uint64_t boots_ = 0;
  std::optional<ArmedImage> armed_;
  FaultSet faults_;
  LuoModel luo_{false};
};

}  // namespace lu::sim
