// The drivers the table knows. Each is defined in its own file under vfio/drivers/<name>/.
#pragma once

#include "vfio/driver.h"

namespace lu::vfio::drivers {

extern const DriverInfo kSimDmaDriver;  // lu-test's simulated DMA engine (simdma/regs.h)
extern const DriverInfo kEduDriver;     // QEMU's edu device, 1234:11e8

}  // namespace lu::vfio::drivers
