#include "tests/vfio/conformance/broken_drivers.h"

#include <thread>

#include "vfio/drivers/drivers.h"

namespace lu::vfio::conformance {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

enum class Defect { kProbe, kStartWaits, kCopyInterrupts, kProgressShort, kSizeLies, kMsiTwice, kErrorsHidden, kDeadlineIgnored, kRemoveNoop };

template <Defect D>
class Broken final : public Driver {
 public:
  explicit Broken(Device& dev) : inner_(drivers::kDsaDriver.create(dev)) {}
  Status init(const DriverRegion& r) override { return inner_->init(r); }
  void remove() override {
    if (D != Defect::kRemoveNoop) inner_->remove();
  }
  std::uint64_t max_memcpy_size() const override { return inner_->max_memcpy_size() * (D == Defect::kSizeLies ? 2 : 1); }
  std::uint64_t max_memcpy_count() const override { return inner_->max_memcpy_count(); }
  Status memcpy_start(std::uint64_t s, std::uint64_t d, std::uint64_t n, std::uint64_t c) override {
    LU_TRY_VOID(inner_->memcpy_start(s, d, n, c));
    if (D == Defect::kStartWaits) {  // waits for the copy (3 s at most) before returning
      const auto until = Clock::now() + 3s;
      while (LU_TRY(inner_->progress()) < c && Clock::now() < until) std::this_thread::sleep_for(1ms);
    }
    return {};
  }
  Status memcpy_wait(Deadline deadline) override {
    auto st = inner_->memcpy_wait(D == Defect::kDeadlineIgnored ? deadline + 3s : deadline);
    if (D == Defect::kCopyInterrupts && st) LU_TRY_VOID(inner_->send_msi());  // the copy "completes" with an MSI
    if (D == Defect::kErrorsHidden && !st && st.error().err != ETIMEDOUT) return {};
    return st;
  }
  Status send_msi() override {
    if (D == Defect::kMsiTwice) LU_TRY_VOID(inner_->send_msi());
    return inner_->send_msi();
  }
  Result<std::uint64_t> progress() override {
    const std::uint64_t p = LU_TRY(inner_->progress());
    return D == Defect::kProgressShort && p > 0 ? p - 1 : p;
  }

 private:
  std::unique_ptr<Driver> inner_;
};

template <Defect D>
constexpr DriverInfo info() {
  DriverInfo i = drivers::kDsaDriver;
  i.create = [](Device& dev) -> std::unique_ptr<Driver> { return std::make_unique<Broken<D>>(dev); };
  if (D == Defect::kProbe) i.probe = [](PciIds) { return true; };
  return i;
}

const struct {
  std::string_view name;
  DriverInfo info;
} kBroken[] = {
    {"probe-accepts-all", info<Defect::kProbe>()},       {"start-waits", info<Defect::kStartWaits>()},
    {"copy-interrupts", info<Defect::kCopyInterrupts>()}, {"progress-short", info<Defect::kProgressShort>()},
    {"size-lies", info<Defect::kSizeLies>()},            {"msi-twice", info<Defect::kMsiTwice>()},
    {"errors-hidden", info<Defect::kErrorsHidden>()},    {"deadline-ignored", info<Defect::kDeadlineIgnored>()},
    {"remove-noop", info<Defect::kRemoveNoop>()},
};

}  // namespace

const DriverInfo* broken_driver(std::string_view defect) {
  for (const auto& b : kBroken)
    if (b.name == defect) return &b.info;
  return nullptr;
}

}  // namespace lu::vfio::conformance
