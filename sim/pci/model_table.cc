#include "sim/pci/model_table.h"

#include <cerrno>

#include "sim/pci/cbdma_model.h"
#include "sim/pci/dsa_model.h"
#include "sim/pci/sim_dma_device.h"

namespace lu::sim::pci {
namespace {

std::unique_ptr<PciModel> simdma(const std::string& bdf) { return std::make_unique<SimDmaDevice>(SimDmaOptions{bdf, 0}); }
std::unique_ptr<PciModel> dsa(const std::string& bdf) {
  DsaOptions o;
  o.engine.bdf = bdf;
  return std::make_unique<DsaModel>(o);
}
std::unique_ptr<PciModel> cbdma(const std::string& bdf) {
  CbdmaOptions o;
  o.engine.bdf = bdf;
  return std::make_unique<CbdmaModel>(o);
}

constexpr ModelRow kRows[] = {
    {"simdma", "lu-test's simulated DMA engine (1b36:7110)", simdma},
    {"dsa", "Intel DSA, dedicated work queue (8086:0b25)", dsa},
    {"cbdma", "Intel CBDMA / ioat v3.3 channel (8086:2021)", cbdma},
};

}  // namespace

std::span<const ModelRow> model_table() { return kRows; }

Result<std::unique_ptr<PciModel>> make_model(std::string_view kind, const std::string& bdf) {
  for (const ModelRow& row : kRows)
    if (row.kind == kind) return row.create(bdf);
  std::string known;
  for (const ModelRow& row : kRows) known += (known.empty() ? "" : ", ") + std::string(row.kind);
  return fail(ErrorKind::kInvalidInput, "create simulated device", bdf,
              "no device model '" + std::string(kind) + "' (known: " + known + ")", EINVAL);
}

}  // namespace lu::sim::pci
