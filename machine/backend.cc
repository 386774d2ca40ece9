#include "machine/machine.h"

namespace lu {

const char* backend_name(Backend b) { return b == Backend::kSim ? "sim" : "kernel"; }

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "kernel") return Backend::kKernel;
  if (name == "sim") return Backend::kSim;
  return std::nullopt;
}

}  // namespace lu
