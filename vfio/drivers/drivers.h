// The drivers the table knows. Each is defined in its own file under vfio/drivers/<name>/.
#pragma once

#include "vfio/driver.h"

namespace lu::vfio::drivers {

extern const DriverInfo kSimDmaDriver;  // lu-test's simulated DMA engine (simdma/regs.h)
extern const DriverInfo kEduDriver;     // QEMU's edu device, 1234:11e8
extern const DriverInfo kIgbDriver;     // Intel 82576, 8086:10c9 (QEMU's igb)
extern const DriverInfo kDsaDriver;     // Intel DSA, 8086:0b25 / 11fb / 1212
extern const DriverInfo kCbdmaDriver;   // Intel CBDMA (ioat v3.2/3.3), 8086:2021

}  // namespace lu::vfio::drivers
