// vfio::Device over any PciModel in the same process: a simulated device behind the VFIO seam
// without a socket. For the drivers' tests and the conformance suite; the simulated machine's
// client backend does the same over its socket. Not a cdev and has no fd: LUO cannot preserve it.
#pragma once

#include <memory>

#include "sim/pci/pci_model.h"
#include "vfio/device.h"

namespace lu::sim::pci {

std::unique_ptr<vfio::Device> make_local_device(PciModel& model);

}  // namespace lu::sim::pci
