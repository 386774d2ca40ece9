// The kernel backend of vfio::Device: config space, regions, BARs, interrupts and reset on a
// VFIO device fd, with the IOMMU side in kernel_iommu.cc.
#include "vfio/kernel_device.h"

#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "base/memfd.h"
#include "vfio/bdf.h"
#include "vfio/diagnosis.h"
#include "vfio/kernel_calls.h"
#include "vfio/kernel_iommu.h"
#include "vfio/sysfs.h"
#include "vfio/uapi.h"

namespace lu::vfio {
namespace {

uapi::DeviceInfo make_device_info() {
  return {.argsz = sizeof(uapi::DeviceInfo), .flags = 0, .num_regions = 0, .num_irqs = 0, .cap_offset = 0, .pad = 0};
}
uapi::RegionInfo make_region_info(std::uint32_t index) {
  return {.argsz = sizeof(uapi::RegionInfo), .flags = 0, .index = index, .cap_offset = 0, .size = 0, .offset = 0};
}
uapi::IrqInfo make_irq_info(std::uint32_t index) {
  return {.argsz = sizeof(uapi::IrqInfo), .flags = 0, .index = index, .count = 0};
}
// VFIO_DEVICE_SET_IRQS with eventfds: the header followed by one s32 per vector. Kept in u32
// words so the header is aligned.
std::vector<std::uint32_t> make_irq_set_eventfds(std::uint32_t index, std::span<const int> fds) {
  uapi::IrqSet head{.argsz = static_cast<std::uint32_t>(sizeof(uapi::IrqSet) + fds.size() * sizeof(std::int32_t)),
                    .flags = uapi::kIrqSetDataEventfd | uapi::kIrqSetActionTrigger,
                    .index = index,
                    .start = 0,
                    .count = static_cast<std::uint32_t>(fds.size())};
  std::vector<std::uint32_t> words(head.argsz / 4, 0);
  std::memcpy(words.data(), &head, sizeof head);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    std::int32_t fd = fds[i];
    std::memcpy(words.data() + sizeof head / 4 + i, &fd, sizeof fd);
  }
  return words;
}
// count 0 with DATA_NONE | ACTION_TRIGGER tears down every vector of `index`.
uapi::IrqSet make_irq_set_disable(std::uint32_t index) {
  return {.argsz = sizeof(uapi::IrqSet), .flags = uapi::kIrqSetDataNone | uapi::kIrqSetActionTrigger,
          .index = index, .start = 0, .count = 0};
}

// MOVDIR64B (CPUID.(EAX=7,ECX=0):ECX bit 28), encoded by hand so no -m flag is needed:
// 66 0F 38 F8 /r with the destination address in RAX and the 64-byte source at [RDX].
Status movdir64b(void* dst, const void* src) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(c & (1u << 28)))
    return fail(ErrorKind::kUnavailable, "MOVDIR64B", "cpu",
                "this CPU cannot issue 64-byte direct stores: a DSA portal cannot be fed from it", EOPNOTSUPP);
  asm volatile(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02" : : "a"(dst), "d"(src) : "memory");
  return {};
}

std::uint32_t irq_index(IrqKind kind) { return kind == IrqKind::kMsi ? uapi::kPciMsiIrqIndex : uapi::kPciMsixIrqIndex; }
const char* irq_name(IrqKind kind) { return kind == IrqKind::kMsi ? "MSI" : "MSI-X"; }

class KernelDevice final : public Device {
 public:
  KernelDevice(KernelCalls calls, Bdf bdf, std::unique_ptr<KernelIommu> iommu, VfioDeviceFd fd, bool cdev,
               uapi::DeviceInfo info)
      : calls_(std::move(calls)), bdf_(bdf.str()), iommu_(std::move(iommu)), fd_(std::move(fd)), cdev_(cdev),
        info_(info) {}

  const std::string& bdf() const override { return bdf_; }
  bool is_cdev() const override { return cdev_; }
  int fd() const override { return fd_.get(); }

  VfioDeviceFd release_fd() override {
    std::lock_guard lock(mu_);
    for (auto& m : bars_) m = Mapping();  // the holder owns the device from here on
    return std::move(fd_);
  }

  Status config_read(std::uint64_t offset, std::span<std::uint8_t> out) override {
    auto region = LU_TRY(checked_region(kConfigRegion, offset, out.size(), "read config space"));
    return pread_all(region.offset + offset, out, "pread config space");
  }

  Status config_write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    auto region = LU_TRY(checked_region(kConfigRegion, offset, data.size(), "write config space"));
    return pwrite_all_at(region.offset + offset, data, "pwrite config space");
  }

  Result<RegionInfo> region_info(std::uint32_t index) override {
    std::lock_guard lock(mu_);
    return region_info_locked(index);
  }

  Result<std::uint32_t> bar_read32(int bar, std::uint64_t offset) override { return bar_read<std::uint32_t>(bar, offset); }
  Result<std::uint64_t> bar_read64(int bar, std::uint64_t offset) override { return bar_read<std::uint64_t>(bar, offset); }
  Status bar_write32(int bar, std::uint64_t offset, std::uint32_t value) override { return bar_write(bar, offset, value); }
  Status bar_write64(int bar, std::uint64_t offset, std::uint64_t value) override { return bar_write(bar, offset, value); }
  Result<std::uint8_t> bar_read8(int bar, std::uint64_t offset) override { return bar_read<std::uint8_t>(bar, offset); }
  Result<std::uint16_t> bar_read16(int bar, std::uint64_t offset) override { return bar_read<std::uint16_t>(bar, offset); }
  Status bar_write8(int bar, std::uint64_t offset, std::uint8_t value) override { return bar_write(bar, offset, value); }
  Status bar_write16(int bar, std::uint64_t offset, std::uint16_t value) override { return bar_write(bar, offset, value); }

  // A work-queue portal takes a descriptor only as one 64-byte write: MOVDIR64B into the mmap'ed BAR. pwrite() would split it, so no fallback.
  Status bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> descriptor) override {
    auto r = LU_TRY(bar_region(bar, offset, 64));
    std::uint8_t* base = LU_TRY(bar_mapping(bar, r));
    if (!base)
      return fail(ErrorKind::kUnavailable, "submit descriptor", bdf_,
                  "BAR" + std::to_string(bar) + " cannot be mmap'ed, and a portal takes only 64-byte writes", EOPNOTSUPP);
    return movdir64b(base + offset, descriptor.data());
  }

  Result<std::vector<IovaRange>> iova_ranges() override { return iommu_->iova_ranges(); }
  Result<MapKind> dma_map(const DmaBuffer& buffer, std::uint64_t iova) override { return iommu_->map(buffer, iova); }
  Status dma_unmap(std::uint64_t iova, std::uint64_t size) override { return iommu_->unmap(iova, size); }

  Result<std::uint32_t> irq_count(IrqKind kind) override {
    auto arg = make_irq_info(irq_index(kind));
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kDeviceGetIrqInfo, &arg));
    return arg.count;
  }

  Status enable_irqs(IrqKind kind, std::span<const int> eventfds) override {
    if (eventfds.empty())
      return fail(ErrorKind::kInvalidInput, std::string("enable ") + irq_name(kind), bdf_, "give at least one eventfd");
    auto words = make_irq_set_eventfds(irq_index(kind), eventfds);
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kDeviceSetIrqs, words.data()));
    enabled_[static_cast<int>(kind)] = true;
    return {};
  }

  Status disable_irqs(IrqKind kind) override {
    auto arg = make_irq_set_disable(irq_index(kind));
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kDeviceSetIrqs, &arg));
    enabled_[static_cast<int>(kind)] = false;
    return {};
  }

  bool irqs_enabled(IrqKind kind) const override { return enabled_[static_cast<int>(kind)]; }

  Status reset() override {
    if (!(info_.flags & uapi::kDeviceFlagsReset))
      return fail(ErrorKind::kUnavailable, uapi::request_name(uapi::kDeviceReset), bdf_,
                  "the device offers no reset method (VFIO_DEVICE_GET_INFO has no RESET flag)");
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kDeviceReset, nullptr));
    return {};
  }

 private:
  Result<RegionInfo> region_info_locked(std::uint32_t index) {
    if (index < cache_.size() && cache_[index]) return *cache_[index];
    if (index >= info_.num_regions)
      return fail(ErrorKind::kInvalidInput, uapi::request_name(uapi::kDeviceGetRegionInfo), bdf_,
                  "region " + std::to_string(index) + " does not exist (device has " +
                      std::to_string(info_.num_regions) + ")");
    auto arg = make_region_info(index);
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kDeviceGetRegionInfo, &arg));
    RegionInfo r{.index = index, .size = arg.size, .offset = arg.offset,
                 .readable = (arg.flags & uapi::kRegionFlagRead) != 0,
                 .writable = (arg.flags & uapi::kRegionFlagWrite) != 0,
                 .mmappable = (arg.flags & uapi::kRegionFlagMmap) != 0};
    if (index < cache_.size()) cache_[index] = r;
    return r;
  }

  Result<RegionInfo> checked_region(std::uint32_t index, std::uint64_t offset, std::uint64_t size, const char* what) {
    auto r = LU_TRY(region_info(index));
    if (offset > r.size || size > r.size - offset)
      return fail(ErrorKind::kInvalidInput, what, bdf_,
                  "offset " + std::to_string(offset) + " + " + std::to_string(size) + " is outside region " +
                      std::to_string(index) + " of " + std::to_string(r.size) + " bytes");
    return r;
  }

  Status pread_all(std::uint64_t at, std::span<std::uint8_t> out, const char* op) {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return fail(ErrorKind::kSystem, op, bdf_, "the device fd refused the access; see dmesg", n < 0 ? errno : EIO);
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  Status pwrite_all_at(std::uint64_t at, std::span<const std::uint8_t> data, const char* op) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return fail(ErrorKind::kSystem, op, bdf_, "the device fd refused the access; see dmesg", n < 0 ? errno : EIO);
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  // The BAR's mmap when the region allows it (made once), else nullptr for pread/pwrite access.
  Result<std::uint8_t*> bar_mapping(int bar, const RegionInfo& r) {
    std::lock_guard lock(mu_);
    if (!r.mmappable) return static_cast<std::uint8_t*>(nullptr);
    auto& m = bars_[bar];
    if (!m.data()) m = LU_TRY(Mapping::map_shared(fd_.get(), r.size, r.offset, r.writable, bdf_ + " BAR" + std::to_string(bar)));
    return m.data();
  }

  Result<RegionInfo> bar_region(int bar, std::uint64_t offset, std::size_t width) {
    if (bar < 0 || bar >= kNumBars)
      return fail(ErrorKind::kInvalidInput, "access BAR", bdf_, "BAR index " + std::to_string(bar) + " is not 0..5");
    if (offset % width != 0)
      return fail(ErrorKind::kInvalidInput, "access BAR", bdf_, "offset " + std::to_string(offset) + " is not naturally aligned");
    return checked_region(static_cast<std::uint32_t>(bar), offset, width, "access BAR");
  }

  template <class T>
  Result<T> bar_read(int bar, std::uint64_t offset) {
    auto r = LU_TRY(bar_region(bar, offset, sizeof(T)));
    std::uint8_t* base = LU_TRY(bar_mapping(bar, r));
    if (base) return *reinterpret_cast<volatile const T*>(base + offset);
    T v;
    LU_TRY_VOID(pread_all(r.offset + offset, {reinterpret_cast<std::uint8_t*>(&v), sizeof v}, "pread BAR"));
    return v;
  }

  template <class T>
  Status bar_write(int bar, std::uint64_t offset, T value) {
    auto r = LU_TRY(bar_region(bar, offset, sizeof(T)));
    std::uint8_t* base = LU_TRY(bar_mapping(bar, r));
    if (base) {
      *reinterpret_cast<volatile T*>(base + offset) = value;
      return {};
    }
    return pwrite_all_at(r.offset + offset, {reinterpret_cast<const std::uint8_t*>(&value), sizeof value}, "pwrite BAR");
  }

  KernelCalls calls_;
  std::string bdf_;
  // Teardown order matters (members destroy bottom-up): BAR mappings, then the device fd, then
  // the IOMMU context. Closing the iommufd or container while the device fd is open leaves the
  // device attached, and VFIO_GROUP_UNSET_CONTAINER answers EBUSY while device fds are open.
  std::unique_ptr<KernelIommu> iommu_;
  VfioDeviceFd fd_;
  bool cdev_;
  uapi::DeviceInfo info_;
  std::array<bool, 2> enabled_{};
  std::mutex mu_;  // guards cache_ and bars_
  std::array<std::optional<RegionInfo>, 9> cache_{};
  std::array<Mapping, kNumBars> bars_{};
};

IoctlGateway& gateway_of(const KernelOptions& o) { return o.gateway ? *o.gateway : system_ioctl(); }

template <class FdT>
Result<FdT> open_node(const std::string& path, const std::string& subject) {
  FdT fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return fail(diagnose_open(path, errno, subject));
  return fd;
}

Result<std::unique_ptr<Device>> finish(const KernelCalls& calls, const Bdf& bdf, std::unique_ptr<KernelIommu> iommu,
                                       VfioDeviceFd fd, bool cdev) {
  auto info = make_device_info();
  LU_TRY_VOID(calls.call(fd.get(), uapi::kDeviceGetInfo, &info));
  if (!(info.flags & uapi::kDeviceFlagsPci) || info.num_regions <= kConfigRegion)
    return fail(ErrorKind::kInvalidInput, uapi::request_name(uapi::kDeviceGetInfo), bdf.str(),
                "not a vfio-pci device (no PCI flag or no config region)");
  return std::unique_ptr<Device>(
      std::make_unique<KernelDevice>(calls, bdf, std::move(iommu), std::move(fd), cdev, info));
}

Result<std::unique_ptr<Device>> open_cdev(const Bdf& bdf, const KernelOptions& o, const KernelCalls& calls) {
  PciSysfs sysfs(o.sysfs_root);
  std::string name = LU_TRY(sysfs.vfio_cdev_name(bdf));
  auto device = LU_TRY(open_node<VfioDeviceFd>(o.dev_root + "/vfio/devices/" + name, bdf.str()));
  auto iommufd = LU_TRY(open_node<IommuFd>(o.dev_root + "/iommu", bdf.str()));
  auto iommu = LU_TRY(attach_iommufd(calls, std::move(iommufd), device.get()));
  return finish(calls, bdf, std::move(iommu), std::move(device), true);
}

Result<std::unique_ptr<Device>> open_group(const Bdf& bdf, const IommuModeInfo& mode, const KernelOptions& o,
                                           const KernelCalls& calls) {
  PciSysfs sysfs(o.sysfs_root);
  unsigned group_number = LU_TRY(sysfs.iommu_group(bdf));
  auto group = LU_TRY(open_node<VfioGroupFd>(o.dev_root + "/vfio/" + std::to_string(group_number), bdf.str()));
  auto container = LU_TRY(open_node<VfioContainerFd>(o.dev_root + "/" + mode.container_path, bdf.str()));
  auto attached = LU_TRY(attach_group(calls, std::move(group), std::move(container), mode.iommu_type, bdf.str()));
  return finish(calls, bdf, std::move(attached.iommu), std::move(attached.device), false);
}

}  // namespace

Result<std::unique_ptr<Device>> open_device(const std::string& bdf_text, IommuMode mode, const KernelOptions& options) {
  Bdf bdf = LU_TRY(Bdf::parse(bdf_text));
  LU_TRY_VOID(PciSysfs(options.sysfs_root).require_vfio_pci(bdf));
  KernelCalls calls(gateway_of(options), bdf.str());
  const auto& info = mode_info(mode);
  if (info.cdev) return open_cdev(bdf, options, calls);
  return open_group(bdf, info, options, calls);
}

Result<std::unique_ptr<Device>> adopt_cdev_device(VfioDeviceFd fd, const std::string& bdf_text,
                                                  const KernelOptions& options) {
  Bdf bdf = LU_TRY(Bdf::parse(bdf_text));
  if (!fd) return fail(ErrorKind::kInvalidInput, "adopt VFIO device", bdf.str(), "the retrieved fd is not open");
  KernelCalls calls(gateway_of(options), bdf.str());
  auto iommufd = LU_TRY(open_node<IommuFd>(options.dev_root + "/iommu", bdf.str()));
  auto iommu = LU_TRY(attach_iommufd(calls, std::move(iommufd), fd.get()));
  return finish(calls, bdf, std::move(iommu), std::move(fd), true);
}

}  // namespace lu::vfio
