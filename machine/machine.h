// The machine seam: everything lu-test needs from the kernel it runs on, in one interface with
// two implementations: the real kernel (syscalls, ioctls, kexec-tools) and the simulated machine.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "luo/luo.h"
#include "vfio/device.h"

namespace lu {

struct BootFacts {
  std::string cmdline;         // /proc/cmdline
  std::string boot_id;         // /proc/sys/kernel/random/boot_id
  std::string kernel_release;  // uname -r
};

struct KexecImage {
  std::string kernel;
  std::string initrd;   // empty: none
  std::string cmdline;  // the complete command line of the next kernel
};

class Kexec {
 public:
  virtual ~Kexec() = default;
  // kexec_file_load semantics (LUO needs the in-kernel loader).
  virtual Status load(const KexecImage& image) = 0;
  virtual Status unload() = 0;
  virtual Result<bool> loaded() = 0;
  // reboot(LINUX_REBOOT_CMD_KEXEC). Guarantees: returns only when the kernel refused (a preserved
  // file failed to freeze: kRefused with the errno) or, on the simulated machine, once the new
  // kernel has booted (the caller's process is then as good as gone).
  virtual Status execute() = 0;
};

class Machine {
 public:
  virtual ~Machine() = default;
  virtual std::string backend() const = 0;  // "kernel" | "sim"
  virtual luo::Opener& luo() = 0;
  virtual Result<BootFacts> boot_facts() = 0;
  virtual Kexec& kexec() = 0;
  // The simulated machine learns which process holds the fds (its holder-killed fault needs it).
  virtual Status announce_holder() { return {}; }
  // A VFIO device by BDF (kernel: cdev + iommufd through sysfs; sim: the simulated machine's
  // PCI device over its socket). kInvalidInput for a malformed BDF, kNotFound when no such
  // device exists, kBusy (EBUSY) while LUO holds it after a kexec.
  virtual Result<std::unique_ptr<vfio::Device>> open_vfio_device(const std::string& bdf) = 0;
  // A device fd retrieved from LUO (RETRIEVE_FD), for the device at `bdf`.
  virtual Result<std::unique_ptr<vfio::Device>> adopt_vfio_device(VfioDeviceFd fd, const std::string& bdf) = 0;
};

struct KernelMachineOptions {
  std::string liveupdate_path = "/dev/liveupdate";
  std::string proc_root = "/proc";
  std::string kexec_binary = "kexec";
};

std::unique_ptr<Machine> make_kernel_machine(const KernelMachineOptions& options = {});

// The nonce marker the armed kernel's command line carries.
inline constexpr char kNonceKey[] = "lu_test.nonce";
inline constexpr char kIterationKey[] = "lu_test.iteration";

// Value of `key=` on a command line, empty if absent. Exact token match: `xlu_test.nonce=` is not it.
std::string cmdline_value(const std::string& cmdline, const std::string& key);
// The current command line with lu-test's own keys removed and the new ones appended.
std::string cmdline_with_nonce(const std::string& cmdline, const std::string& nonce, std::uint32_t iteration);

}  // namespace lu
