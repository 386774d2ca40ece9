#include "sim/pci/pci_model.h"

#include <cerrno>

namespace lu::sim::pci {

Status PciModel::bar_submit64(int bar, std::uint64_t, std::span<const std::uint8_t, 64>) {
  return fail(ErrorKind::kInvalidInput, "sim BAR submit", bdf(),
              std::string(kind()) + " has no work-queue portal in BAR" + std::to_string(bar), EINVAL);
}

}  // namespace lu::sim::pci
