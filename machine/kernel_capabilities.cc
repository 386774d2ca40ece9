#include "machine/kernel_capabilities.h"

#include <zlib.h>

#include <initializer_list>

#include "base/files.h"

namespace lu {
namespace {

bool config_has(const std::string& config, std::initializer_list<const char*> symbols) {
  for (const char* symbol : symbols) {
    const std::string line = std::string(symbol) + "=y";
    for (std::size_t at = config.find(line); at != std::string::npos; at = config.find(line, at + 1)) {
      bool line_start = at == 0 || config[at - 1] == '\n';
      bool line_end = at + line.size() == config.size() || config[at + line.size()] == '\n';
      if (line_start && line_end) return true;
    }
  }
  return false;
}

// gzread also reads an uncompressed file as-is. Bounded: a kernel config is ~100-300 KiB.
std::string read_maybe_gzip(const std::string& path) {
  if (!path_exists(path)) return {};
  gzFile f = ::gzopen(path.c_str(), "rb");
  if (!f) return {};
  std::string out;
  char buf[65536];
  int n;
  while (out.size() < (8u << 20) && (n = ::gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::gzclose(f);
  return out;
}

}  // namespace

Capabilities capabilities_from_config(const std::string& config, std::string luo_problem) {
  Capabilities c;
  c.luo_problem = std::move(luo_problem);
  if (config.empty()) {
    // Without a config only the mainline part can be assumed: LUO itself implies memfd (6.19+).
    c.memfd = c.luo();
    c.source = "no kernel config readable (/proc/config.gz, /boot/config-*): device preservation unknown, assumed absent";
    return c;
  }
  c.source = "kernel config";
  if (!c.luo()) return c;
  c.memfd = config_has(config, {"CONFIG_LIVEUPDATE_MEMFD"});
  c.device_fd = config_has(config, {"CONFIG_VFIO_PCI_LIVEUPDATE"});
  c.device_state = c.device_fd && config_has(config, {"CONFIG_PCI_LIVEUPDATE"});
  // The IOMMUFD series renamed its symbol between revisions; either spelling counts.
  c.dma = c.device_state && config_has(config, {"CONFIG_IOMMUFD_LIVEUPDATE", "CONFIG_IOMMU_LIVEUPDATE"});
  return c;
}

std::string read_kernel_config(const std::string& proc_root, const std::string& boot_root, const std::string& release) {
  std::string text = read_maybe_gzip(proc_root + "/config.gz");
  if (text.empty()) text = read_maybe_gzip(boot_root + "/config-" + release);
  return text;
}

}  // namespace lu
