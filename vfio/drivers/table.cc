// The driver table: one line per driver, in probe order.
#include "vfio/drivers/drivers.h"

namespace lu::vfio {

std::span<const DriverInfo* const> driver_table() {
  static constexpr const DriverInfo* kTable[] = {&drivers::kSimDmaDriver, &drivers::kEduDriver, &drivers::kIgbDriver,
                                                 &drivers::kDsaDriver, &drivers::kCbdmaDriver};
  return kTable;
}

}  // namespace lu::vfio
