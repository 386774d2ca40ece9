// The table of simulated device models: one row per kind, so the simulator server (and tests)
// can create any model for a BDF by name.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/pci/pci_model.h"

namespace lu::sim::pci {

struct ModelRow {
  std::string_view kind;         // "simdma", "dsa", "cbdma"
  std::string_view description;  // one line for `lu-test list`
  std::unique_ptr<PciModel> (*create)(const std::string& bdf);
};

std::span<const ModelRow> model_table();
// kInvalidInput naming the known kinds when `kind` is not in the table.
Result<std::unique_ptr<PciModel>> make_model(std::string_view kind, const std::string& bdf);

}  // namespace lu::sim::pci
