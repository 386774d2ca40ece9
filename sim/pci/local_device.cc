#include "sim/pci/local_device.h"

#include <cerrno>
#include <cstring>

#include "vfio/drivers/simdma/regs.h"

namespace lu::sim::pci {
namespace {

class LocalDevice final : public vfio::Device {
 public:
  explicit LocalDevice(SimDmaDevice& dev) : dev_(dev) {}
  ~LocalDevice() override = default;

  const std::string& bdf() const override { return dev_.bdf(); }
  bool is_cdev() const override { return false; }
  int fd() const override { return -1; }
  VfioDeviceFd release_fd() override { return VfioDeviceFd(); }

  Status config_read(std::uint64_t offset, std::span<std::uint8_t> out) override {
    return dev_.config_read(static_cast<std::uint32_t>(offset), out);
  }
  Status config_write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    return dev_.config_write(static_cast<std::uint32_t>(offset), data);
  }

  Result<vfio::RegionInfo> region_info(std::uint32_t index) override {
    if (index == vfio::kConfigRegion)
      return vfio::RegionInfo{.index = index, .size = kConfigSize, .offset = 0, .readable = true, .writable = true};
    if (index == 0)
      return vfio::RegionInfo{.index = 0, .size = vfio::simdma::kBar0Size, .offset = 0, .readable = true, .writable = true};
    return vfio::RegionInfo{.index = index};  // absent BARs have size 0, as vfio-pci reports them
  }

  Result<std::uint32_t> bar_read32(int bar, std::uint64_t offset) override {
    LU_TRY_VOID(require_bar0(bar));
    return static_cast<std::uint32_t>(LU_TRY(dev_.bar0_read(offset, 4)));
  }
  Status bar_write32(int bar, std::uint64_t offset, std::uint32_t value) override {
    LU_TRY_VOID(require_bar0(bar));
    return dev_.bar0_write(offset, 4, value);
  }
  Result<std::uint64_t> bar_read64(int bar, std::uint64_t offset) override {
    LU_TRY_VOID(require_bar0(bar));
    return dev_.bar0_read(offset, 8);
  }
  Status bar_write64(int bar, std::uint64_t offset, std::uint64_t value) override {
    LU_TRY_VOID(require_bar0(bar));
    return dev_.bar0_write(offset, 8, value);
  }

  // Like a 48-bit IOMMU with nothing reserved.
  Result<std::vector<vfio::IovaRange>> iova_ranges() override { return std::vector<vfio::IovaRange>{{0, (1ull << 48) - 1}}; }

  Result<vfio::MapKind> dma_map(const vfio::DmaBuffer& b, std::uint64_t iova) override {
    LU_TRY_VOID(dev_.map({.iova = iova, .size = b.size, .memfd = b.memfd, .offset = b.offset,
                          .host = static_cast<std::uint8_t*>(b.host)}));
    return b.memfd >= 0 ? vfio::MapKind::kFile : vfio::MapKind::kUserAddress;
  }
  Status dma_unmap(std::uint64_t iova, std::uint64_t size) override { return dev_.unmap(iova, size); }

  Result<std::uint32_t> irq_count(vfio::IrqKind kind) override {
    return kind == vfio::IrqKind::kMsix ? vfio::simdma::kMsixVectors : 0u;
  }
  Status enable_irqs(vfio::IrqKind kind, std::span<const int> eventfds) override {
    if (kind != vfio::IrqKind::kMsix)
      return fail(ErrorKind::kInvalidInput, "enable MSI", bdf(), "simdma offers MSI-X only", EINVAL);
    return dev_.enable_msix(static_cast<unsigned>(eventfds.size()));
  }
  Status disable_irqs(vfio::IrqKind kind) override {
    if (kind == vfio::IrqKind::kMsix) dev_.disable_msix();
    return {};
  }
  bool irqs_enabled(vfio::IrqKind kind) const override {
    return kind == vfio::IrqKind::kMsix && dev_.interrupts_enabled();
  }
  Status reset() override {
    dev_.reset();
    return {};
  }

 private:
  Status require_bar0(int bar) {
    if (bar != 0) return fail(ErrorKind::kInvalidInput, "access BAR", bdf(), "simdma has BAR0 only", EINVAL);
    return {};
  }
  SimDmaDevice& dev_;
};

}  // namespace

std::unique_ptr<vfio::Device> make_local_device(SimDmaDevice& device) { return std::make_unique<LocalDevice>(device); }

}  // namespace lu::sim::pci
