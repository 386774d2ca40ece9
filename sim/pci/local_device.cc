#include "sim/pci/local_device.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <vector>

namespace lu::sim::pci {
namespace {

class LocalDevice final : public vfio::Device {
 public:
  // Raised vectors signal the eventfds given to enable_irqs(), as vfio-pci does.
  explicit LocalDevice(PciModel& model) : model_(model), routes_(std::make_shared<Routes>()) {
    model_.set_msi_sink([routes = routes_](unsigned vector) {
      std::lock_guard lock(routes->mu);
      if (vector >= routes->fds.size()) return;
      std::uint64_t one = 1;
      (void)!::write(routes->fds[vector], &one, sizeof one);
    });
  }
  ~LocalDevice() override { model_.set_msi_sink({}); }

  const std::string& bdf() const override { return model_.bdf(); }
  bool is_cdev() const override { return false; }
  int fd() const override { return -1; }
  VfioDeviceFd release_fd() override { return VfioDeviceFd(); }

  Status config_read(std::uint64_t offset, std::span<std::uint8_t> out) override {
    if (offset > kConfigSize) return out_of_range("config read");
    return model_.config_read(static_cast<std::uint32_t>(offset), out);
  }
  Status config_write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    if (offset > kConfigSize) return out_of_range("config write");
    return model_.config_write(static_cast<std::uint32_t>(offset), data);
  }

  Result<vfio::RegionInfo> region_info(std::uint32_t index) override {
    if (index == vfio::kConfigRegion)
      return vfio::RegionInfo{.index = index, .size = kConfigSize, .offset = 0, .readable = true, .writable = true};
    const std::uint64_t size = index < vfio::kNumBars ? model_.bar_size(static_cast<int>(index)) : 0;
    // Absent BARs have size 0, as vfio-pci reports them.
    return vfio::RegionInfo{.index = index, .size = size, .offset = 0, .readable = size > 0, .writable = size > 0};
  }

  Result<std::uint32_t> bar_read32(int bar, std::uint64_t offset) override { return read<std::uint32_t>(bar, offset); }
  Result<std::uint64_t> bar_read64(int bar, std::uint64_t offset) override { return read<std::uint64_t>(bar, offset); }
  Result<std::uint8_t> bar_read8(int bar, std::uint64_t offset) override { return read<std::uint8_t>(bar, offset); }
  Result<std::uint16_t> bar_read16(int bar, std::uint64_t offset) override { return read<std::uint16_t>(bar, offset); }
  Status bar_write32(int bar, std::uint64_t offset, std::uint32_t v) override { return model_.bar_write(bar, offset, 4, v); }
  Status bar_write64(int bar, std::uint64_t offset, std::uint64_t v) override { return model_.bar_write(bar, offset, 8, v); }
  Status bar_write8(int bar, std::uint64_t offset, std::uint8_t v) override { return model_.bar_write(bar, offset, 1, v); }
  Status bar_write16(int bar, std::uint64_t offset, std::uint16_t v) override { return model_.bar_write(bar, offset, 2, v); }
  Status bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> d) override {
    return model_.bar_submit64(bar, offset, d);
  }

  // Like a 48-bit IOMMU with nothing reserved.
  Result<std::vector<vfio::IovaRange>> iova_ranges() override { return std::vector<vfio::IovaRange>{{0, (1ull << 48) - 1}}; }

  Result<vfio::MapKind> dma_map(const vfio::DmaBuffer& b, std::uint64_t iova) override {
    LU_TRY_VOID(model_.map({.iova = iova, .size = b.size, .memfd = b.memfd, .offset = b.offset,
                            .host = static_cast<std::uint8_t*>(b.host)}));
    return b.memfd >= 0 ? vfio::MapKind::kFile : vfio::MapKind::kUserAddress;
  }
  Status dma_unmap(std::uint64_t iova, std::uint64_t size) override { return model_.unmap(iova, size); }

  Result<std::uint32_t> irq_count(vfio::IrqKind kind) override {
    return kind == vfio::IrqKind::kMsix ? model_.msix_vectors() : 0u;
  }
  Status enable_irqs(vfio::IrqKind kind, std::span<const int> eventfds) override {
    if (kind != vfio::IrqKind::kMsix)
      return fail(ErrorKind::kInvalidInput, "enable MSI", bdf(), std::string(model_.kind()) + " offers MSI-X only", EINVAL);
    LU_TRY_VOID(model_.enable_msix(static_cast<unsigned>(eventfds.size())));
    std::lock_guard lock(routes_->mu);
    routes_->fds.assign(eventfds.begin(), eventfds.end());
    return {};
  }
  Status disable_irqs(vfio::IrqKind kind) override {
    if (kind != vfio::IrqKind::kMsix) return {};
    model_.disable_msix();
    std::lock_guard lock(routes_->mu);
    routes_->fds.clear();
    return {};
  }
  bool irqs_enabled(vfio::IrqKind kind) const override { return kind == vfio::IrqKind::kMsix && model_.interrupts_enabled(); }
  Status reset() override {
    model_.reset();
    return {};
  }

 private:
  template <class T>
  Result<T> read(int bar, std::uint64_t offset) {
    return static_cast<T>(LU_TRY(model_.bar_read(bar, offset, sizeof(T))));
  }
  std::unexpected<Error> out_of_range(const char* op) {
    return fail(ErrorKind::kInvalidInput, op, bdf(), "outside the 4 KiB config space", EINVAL);
  }
  struct Routes {
    std::mutex mu;
    std::vector<int> fds;  // borrowed eventfds, by vector
  };
  PciModel& model_;
  std::shared_ptr<Routes> routes_;
};

}  // namespace

std::unique_ptr<vfio::Device> make_local_device(PciModel& model) { return std::make_unique<LocalDevice>(model); }

}  // namespace lu::sim::pci
