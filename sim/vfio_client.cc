#include "sim/vfio_client.h"

#include <cerrno>

#include "base/rpc.h"
#include "vfio/drivers/simdma/regs.h"

namespace lu::sim {

ErrorKind device_error_kind(int err) {
  switch (err) {
    case ENODEV:
    case ENOENT: return ErrorKind::kNotFound;
    case EBUSY:
    case EEXIST: return ErrorKind::kBusy;
    case EINVAL: return ErrorKind::kInvalidInput;
    default: return ErrorKind::kSystem;
  }
}

namespace {

class SimVfioDevice final : public vfio::Device {
 public:
  SimVfioDevice(VfioDeviceFd fd, std::string bdf) : fd_(std::move(fd)), bdf_(std::move(bdf)) {}

  const std::string& bdf() const override { return bdf_; }
  bool is_cdev() const override { return true; }
  int fd() const override { return fd_.get(); }
  VfioDeviceFd release_fd() override { return std::move(fd_); }

  Status config_read(std::uint64_t offset, std::span<std::uint8_t> out) override {
    auto a = LU_TRY(ask("config_read", {offset, out.size()}));
    if (a.reply.bytes.size() != out.size())
      return fail(ErrorKind::kInternal, "config_read", bdf_, "short reply from the simulated machine");
    std::copy(a.reply.bytes.begin(), a.reply.bytes.end(), out.begin());
    return {};
  }
  Status config_write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    LU_TRY_VOID(ask("config_write", {offset}, {}, std::vector<std::uint8_t>(data.begin(), data.end())));
    return {};
  }

  Result<vfio::RegionInfo> region_info(std::uint32_t index) override {
    if (index == vfio::kConfigRegion)
      return vfio::RegionInfo{.index = index, .size = 4096, .offset = 0, .readable = true, .writable = true};
    if (index == 0)
      return vfio::RegionInfo{.index = 0, .size = vfio::simdma::kBar0Size, .offset = 0, .readable = true, .writable = true};
    return vfio::RegionInfo{.index = index};
  }

  Result<std::uint32_t> bar_read32(int bar, std::uint64_t offset) override {
    auto a = LU_TRY(ask("bar_read", {static_cast<std::uint64_t>(bar), offset, 4}));
    return static_cast<std::uint32_t>(a.reply.nums.empty() ? 0 : a.reply.nums[0]);
  }
  Status bar_write32(int bar, std::uint64_t offset, std::uint32_t value) override {
    LU_TRY_VOID(ask("bar_write", {static_cast<std::uint64_t>(bar), offset, 4, value}));
    return {};
  }
  Result<std::uint64_t> bar_read64(int bar, std::uint64_t offset) override {
    auto a = LU_TRY(ask("bar_read", {static_cast<std::uint64_t>(bar), offset, 8}));
    return a.reply.nums.empty() ? 0 : a.reply.nums[0];
  }
  Status bar_write64(int bar, std::uint64_t offset, std::uint64_t value) override {
    LU_TRY_VOID(ask("bar_write", {static_cast<std::uint64_t>(bar), offset, 8, value}));
    return {};
  }

  Result<std::vector<vfio::IovaRange>> iova_ranges() override {
    auto a = LU_TRY(ask("iova_ranges", {}));
    std::vector<vfio::IovaRange> out;
    for (std::size_t i = 0; i + 1 < a.reply.nums.size(); i += 2) out.push_back({a.reply.nums[i], a.reply.nums[i + 1]});
    return out;
  }
  Result<vfio::MapKind> dma_map(const vfio::DmaBuffer& b, std::uint64_t iova) override {
    if (b.memfd < 0)
      return fail(ErrorKind::kInvalidInput, "dma_map", bdf_,
                  "the simulated machine maps memfd-backed memory only (pass DmaBuffer::memfd)", EINVAL);
    LU_TRY_VOID(ask("dma_map", {iova, b.offset, b.size}, {b.memfd}));
    return vfio::MapKind::kFile;
  }
  Status dma_unmap(std::uint64_t iova, std::uint64_t size) override {
    LU_TRY_VOID(ask("dma_unmap", {iova, size}));
    return {};
  }

  Result<std::uint32_t> irq_count(vfio::IrqKind kind) override {
    return kind == vfio::IrqKind::kMsix ? vfio::simdma::kMsixVectors : 0u;
  }
  Status enable_irqs(vfio::IrqKind kind, std::span<const int> eventfds) override {
    if (kind != vfio::IrqKind::kMsix)
      return fail(ErrorKind::kInvalidInput, "enable MSI", bdf_, "simdma offers MSI-X only", EINVAL);
    LU_TRY_VOID(ask("irq_enable", {eventfds.size()}, std::vector<int>(eventfds.begin(), eventfds.end())));
    msix_ = true;
    return {};
  }
  Status disable_irqs(vfio::IrqKind kind) override {
    if (kind != vfio::IrqKind::kMsix) return {};
    LU_TRY_VOID(ask("irq_disable", {}));
    msix_ = false;
    return {};
  }
  bool irqs_enabled(vfio::IrqKind kind) const override { return kind == vfio::IrqKind::kMsix && msix_; }
  Status reset() override {
    LU_TRY_VOID(ask("reset", {}));
    return {};
  }

 private:
  Result<rpc::Answer> ask(const char* op, std::vector<std::uint64_t> nums, const std::vector<int>& fds = {},
                          std::vector<std::uint8_t> bytes = {}) {
    if (!fd_) return fail(ErrorKind::kInternal, op, bdf_, "the device fd was released", EBADF);
    auto a = rpc::call(fd_.get(), rpc::Request{op, {}, std::move(nums), std::move(bytes)}, fds);
    if (!a) return fail(a.error());
    if (a->reply.err)
      return fail(device_error_kind(a->reply.err), op, bdf_,
                  a->reply.detail.empty() ? "the simulated device refused" : a->reply.detail, a->reply.err);
    return a;
  }

  VfioDeviceFd fd_;
  std::string bdf_;
  bool msix_ = false;
};

}  // namespace

std::unique_ptr<vfio::Device> make_sim_vfio_device(VfioDeviceFd fd, std::string bdf) {
  return std::make_unique<SimVfioDevice>(std::move(fd), std::move(bdf));
}

}  // namespace lu::sim
