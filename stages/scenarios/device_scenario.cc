// VFIO devices across the kexec, one set of checks per --device (names carry the BDF): the
// device fd preserved through LUO, bus mastering, the virtual config space, and a DMA memcpy
// started before the kexec that keeps running through it. The halves live in device/.
#include "stages/scenarios/device/device.h"
#include "stages/scenarios/scenarios.h"

namespace lu::stages {
namespace {

class DeviceScenario final : public Scenario {
 public:
  std::string name() const override { return "device"; }
  std::vector<CheckInfo> checks() const override {
    using namespace device;
    return {{kReopenEbusy, "opening the preserved device behind LUO's back fails with EBUSY until it is retrieved",
             Capability::kDeviceFd},
            {kFdPreserved, "the device fd is retrieved from LUO by its token after the kexec", Capability::kDeviceFd},
            {kBusMaster, "bus mastering is still enabled after the kexec", Capability::kBusMaster},
            {kConfigSpace, "config space is byte-identical to the pre-kexec snapshot (status register masked)",
             Capability::kConfigSpace},
            {kDmaProgress, "the memcpy started before the kexec progressed across it and still progresses",
             Capability::kDmaContinuity},
            {kDmaData, "the memcpy completes and its destination equals its source", Capability::kDmaContinuity},
            {kFreshMemcpy, "a new memcpy after the kexec completes and verifies (whatever the profile)",
             Capability::kDeviceFd}};
  }
  std::vector<std::string> plan(const StageOptions& options) const override {
    std::vector<std::string> out;
    for (auto& bdf : options.devices)
      for (auto& c : checks()) out.push_back(device::check_name(c.name, bdf));
    return out;
  }
  bool wanted(const StageOptions& options) const override { return !options.devices.empty(); }

  Status pre(PreContext& ctx) override {
    for (auto& bdf : ctx.options().devices) LU_TRY_VOID(device::arm(ctx, bdf, ctx.options().dma_size));
    return {};
  }

  // A device whose pre stage recorded nothing (a damaged state) still gets its checks: judged
  // as not held, with the reason.
  void post(PostContext& ctx) override {
    for (auto& rec : ctx.state().devices) device::DevicePost(ctx, rec).run();
  }
};

}  // namespace

std::unique_ptr<Scenario> make_device_scenario() { return std::make_unique<DeviceScenario>(); }

}  // namespace lu::stages
