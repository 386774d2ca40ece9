// The built-in scenarios; registry.cc lists them in run order.
#pragma once

#include <memory>

#include "stages/scenario.h"

namespace lu::stages {

std::unique_ptr<Scenario> make_memfd_scenario();
std::unique_ptr<Scenario> make_sessions_scenario();
std::unique_ptr<Scenario> make_device_scenario();

}  // namespace lu::stages
