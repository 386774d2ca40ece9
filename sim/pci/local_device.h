// vfio::Device over a SimDmaDevice in the same process: the simulated device behind the VFIO
// seam without a socket. For unit tests of drivers and checks; the simulated machine's client
// backend does the same over its socket. Not a cdev and has no fd: LUO cannot preserve it.
#pragma once

#include <memory>

#include "sim/pci/sim_dma_device.h"
#include "vfio/device.h"

namespace lu::sim::pci {

std::unique_ptr<vfio::Device> make_local_device(SimDmaDevice& device);

}  // namespace lu::sim::pci
