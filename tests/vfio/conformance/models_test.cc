// The conformance suite on the in-process device models: simdma, DSA and CBDMA. The DSA and
// CBDMA models get smaller transfer limits than the hardware's, so chunking is exercised
// within the suite's 1 MiB buffers.
#include "tests/vfio/conformance/conformance.h"

#include <cstdlib>

#include "tests/vfio/conformance/broken_drivers.h"

#include "sim/pci/cbdma_model.h"
#include "sim/pci/dsa_model.h"
#include "sim/pci/local_device.h"
#include "sim/pci/sim_dma_device.h"

namespace lu::vfio::conformance {
namespace {

class ModelRig final : public Rig {
 public:
  explicit ModelRig(std::unique_ptr<sim::pci::PciModel> model)
      : model_(std::move(model)), device_(sim::pci::make_local_device(*model_)) {}
  Device& device() override { return *device_; }
  bool can_hold_dma() const override { return true; }  // every model pauses without bus mastering
  std::optional<bool> dma_pending() override { return model_->dma_pending(); }

 private:
  std::unique_ptr<sim::pci::PciModel> model_;
  std::unique_ptr<Device> device_;  // destroyed first: it routes the model's MSIs
};

std::unique_ptr<Rig> simdma() { return std::make_unique<ModelRig>(std::make_unique<sim::pci::SimDmaDevice>()); }
std::unique_ptr<Rig> dsa() {
  sim::pci::DsaOptions o;
  o.max_xfer_shift = 16;
  return std::make_unique<ModelRig>(std::make_unique<sim::pci::DsaModel>(o));
}
std::unique_ptr<Rig> cbdma() {
  sim::pci::CbdmaOptions o;
  o.xfercap = 16;
  return std::make_unique<ModelRig>(std::make_unique<sim::pci::CbdmaModel>(o));
}

}  // namespace

std::vector<Target> targets() {
  // LU_TEST_CONFORMANCE_BROKEN=<defect>: only the DSA model under that broken driver, to prove
  // the check written for the defect fails (tests/vfio/CMakeLists.txt).
  if (const char* defect = std::getenv("LU_TEST_CONFORMANCE_BROKEN")) {
    std::string name = "broken_";
    for (const char* c = defect; *c; ++c) name += *c == '-' ? '_' : *c;
    return {{.name = name, .driver = "dsa", .make = dsa, .force_driver = broken_driver(defect)}};
  }
  return {{.name = "simdma_model", .driver = "simdma", .make = simdma},
          {.name = "dsa_model", .driver = "dsa", .make = dsa},
          {.name = "cbdma_model", .driver = "cbdma", .make = cbdma}};
}

}  // namespace lu::vfio::conformance
