// The real kernel. Never exercised for kexec on a developer's machine: kernel-backend cycles run
// inside QEMU guests only.
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "base/files.h"
#include "base/process.h"
#include "machine/kernel_capabilities.h"
#include "machine/machine.h"
#include "vfio/kernel_device.h"

namespace lu {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class KernelKexec final : public Kexec {
 public:
  explicit KernelKexec(KernelMachineOptions options) : options_(std::move(options)) {}

  Status load(const KexecImage& image) override {
    // -s: kexec_file_load; the user-space loader has no KHO support.
    std::vector<std::string> argv{options_.kexec_binary, "-s", "-l", image.kernel};
    if (!image.initrd.empty()) argv.push_back("--initrd=" + image.initrd);
    argv.push_back("--append=" + image.cmdline);
    return run(argv, "check the kernel image path and that CONFIG_KEXEC_FILE is set (and the image is signed if "
                     "lockdown requires it)");
  }

  Status unload() override {
    return run({options_.kexec_binary, "-u"}, "check that kexec-tools is installed");
  }

  Result<bool> loaded() override {
    auto text = read_text_file("/sys/kernel/kexec_loaded");
    if (!text) return fail(text.error());
    return trim(*text) == "1";
  }

  Status execute() override {
    // kexec -e does not sync; our state and logs were fsynced already, this is for the rest.
    ::sync();
    long rc = ::syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_KEXEC, nullptr);
    int err = errno;
    (void)rc;
    if (err == EINVAL)
      return fail(ErrorKind::kNoState, "reboot(LINUX_REBOOT_CMD_KEXEC)", "kexec", "no kernel is loaded: run `lu-test stage pre` (it arms the kexec)", err);
    return fail(ErrorKind::kKexecRefused, "reboot(LINUX_REBOOT_CMD_KEXEC)", "kexec",
                "the kernel refused the kexec: a preserved file failed to freeze (VFIO: disable interrupts first); "
                "see dmesg. The sessions are still held; `lu-test cancel` releases them",
                err);
  }

 private:
  Status run(const std::vector<std::string>& argv, const std::string& hint) {
    auto result = LU_TRY(run_process(argv));
    if (result.exit_code != 0)
      return fail(ErrorKind::kSystem, join_argv(argv), "kexec-tools",
                  hint + "; kexec said: " + trim(result.output));
    return {};
  }

  KernelMachineOptions options_;
};

class KernelMachine final : public Machine {
 public:
  explicit KernelMachine(const KernelMachineOptions& options)
      : options_(options), luo_(luo::make_kernel_opener(system_ioctl(), options.liveupdate_path)), kexec_(options) {}

  Backend backend() const override { return Backend::kKernel; }
  Result<std::unique_ptr<Machine>> reconnect() const override {
    return std::unique_ptr<Machine>(std::make_unique<KernelMachine>(options_));
  }
  KexecImage default_image(const BootFacts& facts) const override {
    KexecImage image;
    image.kernel = options_.boot_root + "/vmlinuz-" + facts.kernel_release;
    if (path_exists(options_.boot_root + "/initrd.img-" + facts.kernel_release))
      image.initrd = options_.boot_root + "/initrd.img-" + facts.kernel_release;
    return image;
  }

  std::string release_of(const std::string& image) const override { return bzimage_release(image); }

  Result<Capabilities> capabilities() override {
    auto facts = LU_TRY(boot_facts());
    std::string luo_problem;
    if (auto dev = luo_->open(); !dev) {
      if (dev.error().kind != ErrorKind::kUnavailable) return fail(dev.error());
      luo_problem = dev.error().message();
    }
    auto c = capabilities_from_config(read_kernel_config(options_.proc_root, options_.boot_root, facts.kernel_release),
                                      std::move(luo_problem));
    c.vfio_cdev = path_exists(options_.dev_root + "/vfio/devices");
    c.iommufd = path_exists(options_.dev_root + "/iommu");
    return c;
  }
  luo::Opener& luo() override { return *luo_; }
  Kexec& kexec() override { return kexec_; }

  // cdev + iommufd where the kernel has it (the only fds LUO can preserve); otherwise group +
  // type1v2, which kernels such as Debian 12's 6.1 offer, so the device checks still run there.
  Result<std::unique_ptr<vfio::Device>> open_vfio_device(const std::string& bdf) override {
    bool cdev = path_exists("/dev/iommu") && path_exists("/sys/bus/pci/devices/" + bdf + "/vfio-dev");
    return vfio::open_device(bdf, cdev ? vfio::IommuMode::kIommufd : vfio::IommuMode::kVfioType1v2);
  }
  Result<std::unique_ptr<vfio::Device>> adopt_vfio_device(VfioDeviceFd fd, const std::string& bdf) override {
    return vfio::adopt_cdev_device(std::move(fd), bdf);
  }

  Result<BootFacts> boot_facts() override {
    BootFacts facts;
    facts.cmdline = trim(LU_TRY(read_text_file(options_.proc_root + "/cmdline")));
    facts.boot_id = trim(LU_TRY(read_text_file(options_.proc_root + "/sys/kernel/random/boot_id")));
    utsname u{};
    ::uname(&u);
    facts.kernel_release = u.release;
    return facts;
  }

 private:
  KernelMachineOptions options_;
  std::unique_ptr<luo::Opener> luo_;
  KernelKexec kexec_;
};

}  // namespace

std::unique_ptr<Machine> make_kernel_machine(const KernelMachineOptions& options) {
  return std::make_unique<KernelMachine>(options);
}

}  // namespace lu
