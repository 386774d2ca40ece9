// Drivers with one defect each, wrapping the DSA driver: every check of the conformance suite
// must fail on the defect it exists for (tests/vfio/CMakeLists.txt runs each pair).
#pragma once

#include <string_view>

#include "vfio/driver.h"

namespace lu::vfio::conformance {

// nullptr for an unknown defect. Known: probe-accepts-all, start-waits, copy-interrupts,
// progress-short, size-lies, msi-twice, errors-hidden, deadline-ignored, remove-noop.
const DriverInfo* broken_driver(std::string_view defect);

}  // namespace lu::vfio::conformance
