// The machine seam: everything lu-test needs from the kernel it runs on, in one interface with
// two implementations: the real kernel (syscalls, ioctls, kexec-tools) and the simulated machine.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "luo/luo.h"
#include "vfio/device.h"

namespace lu {

// Which machine lu-test talks to. Parsed once from --backend; everything that differs between
// the two lives behind Machine.
enum class Backend { kKernel, kSim };
const char* backend_name(Backend b);
std::optional<Backend> parse_backend(std::string_view name);

// What the running kernel can preserve across a live update, as far as a probe can tell before
// the kexec. `source` says where the facts came from (kernel config, simulated kernel profile).
struct Capabilities {
  std::string luo_problem;         // empty: /dev/liveupdate opens
  bool memfd = false;              // LUO memfd file handler (mainline 6.19+)
  bool device_fd = false;          // VFIO cdev file handler (VFIO live-update series)
  bool device_state = false;       // bus master and config space kept (PCI live-update series)
  bool dma = false;                // IOMMU translations kept: DMA runs on (IOMMUFD series)
  bool vfio_cdev = false;          // VFIO devices open as cdevs (/dev/vfio/devices)
  bool iommufd = false;            // /dev/iommu
  std::string source;
  bool luo() const { return luo_problem.empty(); }
};

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
  // file failed to freeze: kKexecRefused with the errno) or, on the simulated machine, once the new
  // kernel has booted (the caller's process is then as good as gone).
  virtual Status execute() = 0;
};

class Machine {
 public:
  virtual ~Machine() = default;
  virtual Backend backend() const = 0;
  virtual luo::Opener& luo() = 0;
  virtual Result<BootFacts> boot_facts() = 0;
  virtual Result<Capabilities> capabilities() = 0;
  virtual Kexec& kexec() = 0;
  // A second, independent connection to the same machine: what the holder uses after its fork.
  virtual Result<std::unique_ptr<Machine>> reconnect() const = 0;
  // The kernel (and initrd) a kexec boots when the user names none: the running one's on a real
  // machine, the simulated machine's own kernel on the simulator (empty strings).
  virtual KexecImage default_image(const BootFacts& facts) const = 0;
  // The release a kernel image boots (a bzImage's header names it; the simulated machine boots
  // "sim:RELEASE"); empty when it cannot be told.
  virtual std::string release_of(const std::string& kernel_image) const = 0;
  // An fd that becomes readable (hang-up) when the machine goes away under its clients, or -1.
  // The holder watches it: a holder whose machine is gone must not pretend to hold anything.
  virtual int liveness_fd() const { return -1; }
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
  std::string boot_root = "/boot";
  std::string dev_root = "/dev";
  std::string kexec_binary = "kexec";
};

std::unique_ptr<Machine> make_kernel_machine(const KernelMachineOptions& options = {});

// The release string in a bzImage's setup header (kernel_version), empty when it is not one.
std::string bzimage_release(const std::string& path);

// The nonce marker the armed kernel's command line carries.
inline constexpr char kNonceKey[] = "lu_test.nonce";
inline constexpr char kIterationKey[] = "lu_test.iteration";

// Value of `key=` on a command line, empty if absent. Exact token match: `xlu_test.nonce=` is not it.
std::string cmdline_value(const std::string& cmdline, const std::string& key);
// The current command line with lu-test's own keys removed and the new ones appended.
std::string cmdline_with_nonce(const std::string& cmdline, const std::string& nonce, std::uint32_t iteration);

}  // namespace lu
