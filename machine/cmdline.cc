#include <sstream>

#include "machine/machine.h"

namespace lu {

std::string cmdline_value(const std::string& cmdline, const std::string& key) {
  std::istringstream in(cmdline);
  std::string token, found;
  const std::string prefix = key + "=";
  while (in >> token)
    if (token.compare(0, prefix.size(), prefix) == 0) found = token.substr(prefix.size());  // last one wins, as in the kernel
  return found;
}

std::string cmdline_with_nonce(const std::string& cmdline, const std::string& nonce, std::uint32_t iteration) {
  std::istringstream in(cmdline);
  std::string token, out;
  while (in >> token) {
    if (token.rfind("lu_test.", 0) == 0) continue;
    if (!out.empty()) out += ' ';
    out += token;
  }
  if (!out.empty()) out += ' ';
  out += std::string(kNonceKey) + "=" + nonce + " " + kIterationKey + "=" + std::to_string(iteration);
  return out;
}

}  // namespace lu
