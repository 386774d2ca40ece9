// The built-in scenarios; registry.cc lists them in run order.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "stages/scenario.h"

namespace lu::stages {

// Deterministic test data from a seed (the run's nonce): every run writes different bytes, so
// stale data from an earlier run can never pass for this one's.
void fill_pattern(std::span<std::uint8_t> out, std::uint64_t seed);

std::unique_ptr<Scenario> make_memfd_scenario();
std::unique_ptr<Scenario> make_sessions_scenario();
std::unique_ptr<Scenario> make_device_scenario();

}  // namespace lu::stages
