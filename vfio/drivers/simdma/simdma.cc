// The driver for lu-test's simulated DMA engine (regs.h). Everything it does is a BAR access.
#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>

#include "vfio/drivers/drivers.h"
#include "vfio/drivers/simdma/regs.h"

namespace lu::vfio::drivers {
namespace {

namespace r = simdma;

const char* error_name(std::uint32_t code) {
  switch (code) {
    case r::kErrorTranslation: return "IOVA translation fault";
    case r::kErrorBadJob: return "job rejected (size/count/overlap)";
    case r::kErrorBusy: return "doorbell while busy";
    case r::kErrorAborted: return "job aborted";
  }
  return "unknown device error";
}

class SimDma final : public Driver {
 public:
  explicit SimDma(Device& device) : dev_(device) {}

  Status init(const DriverRegion&) override {
    auto id = LU_TRY(dev_.bar_read32(0, r::kRegId));
    if (id != r::kIdValue)
      return fail(ErrorKind::kCorruptState, "simdma init", dev_.bdf(),
                  "ID register reads " + std::to_string(id) + ", not the simdma id: BAR0 is not decoded or the device was replaced");
    max_size_ = LU_TRY(dev_.bar_read64(0, r::kRegMaxSize));
    max_count_ = LU_TRY(dev_.bar_read64(0, r::kRegMaxCount));
    return {};
  }

  // ABORT stops a running job; on an idle engine it is a no-op.
  void remove() override { (void)dev_.bar_write32(0, r::kRegDoorbell, r::kDoorbellAbort); }
  std::uint64_t max_memcpy_size() const override { return max_size_; }
  std::uint64_t max_memcpy_count() const override { return max_count_; }

  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) override {
    LU_TRY_VOID(dev_.bar_write64(0, r::kRegSrc, src));
    LU_TRY_VOID(dev_.bar_write64(0, r::kRegDst, dst));
    LU_TRY_VOID(dev_.bar_write64(0, r::kRegSize, size));
    LU_TRY_VOID(dev_.bar_write64(0, r::kRegCount, count));
    LU_TRY_VOID(dev_.bar_write32(0, r::kRegDoorbell, r::kDoorbellStart));
    // A job the device rejects outright (bad size/count, busy) reports through STATUS at once:
    // surface it now. Faults found while copying (translation) are memcpy_wait()'s to report,
    // even when the engine already hit one by the time of this read.
    auto status = LU_TRY(dev_.bar_read32(0, r::kRegStatus));
    const auto code = r::status_error(status);
    if ((status & r::kStatusError) && (code == r::kErrorBadJob || code == r::kErrorBusy))
      return device_error(status, "memcpy_start");
    return {};
  }

  Status memcpy_wait(Deadline deadline) override {
    auto poll = std::chrono::microseconds(50);
    for (;;) {
      auto status = LU_TRY(dev_.bar_read32(0, r::kRegStatus));
      if (status & r::kStatusError) return device_error(status, "memcpy_wait");
      if (!(status & r::kStatusBusy)) return {};
      if (std::chrono::steady_clock::now() >= deadline) {
        auto done = dev_.bar_read64(0, r::kRegProgress);
        return fail(ErrorKind::kSystem, "memcpy_wait", dev_.bdf(),
                    "simdma still busy at the deadline after " + std::to_string(done ? *done : 0) +
                        " copies: DMA stalled, or bus mastering is off",
                    ETIMEDOUT);
      }
      std::this_thread::sleep_for(poll);
      poll = std::min<std::chrono::microseconds>(poll * 2, std::chrono::milliseconds(5));
    }
  }

  Status send_msi() override { return dev_.bar_write32(0, r::kRegMsiTrigger, 0); }
  Result<std::uint64_t> progress() override { return dev_.bar_read64(0, r::kRegProgress); }
  Result<bool> set_pace(std::uint32_t copies_per_second) override {
    LU_TRY_VOID(dev_.bar_write32(0, r::kRegRate, copies_per_second));
    return true;
  }

 private:
  Status device_error(std::uint32_t status, const char* op) {
    std::uint32_t code = r::status_error(status);
    std::string hint = std::string("simdma reported ") + error_name(code);
    if (code == r::kErrorTranslation) {
      auto iova = dev_.bar_read64(0, r::kRegErrorIova);
      hint += " at IOVA " + std::to_string(iova ? *iova : 0) + ": map the buffers before starting";
    }
    return fail(ErrorKind::kRefused, op, dev_.bdf(), hint);
  }

  Device& dev_;
  std::uint64_t max_size_ = r::kMaxSize;  // the device's own value replaces these in init()
  std::uint64_t max_count_ = r::kMaxCount;
};

bool probe(PciIds ids) { return ids.vendor == r::kVendorId && ids.device == r::kDeviceId; }
std::unique_ptr<Driver> create(Device& device) { return std::make_unique<SimDma>(device); }

}  // namespace

constinit const DriverInfo kSimDmaDriver = {"simdma", probe, create, 64, 0, IrqKind::kMsix, 0};

}  // namespace lu::vfio::drivers
