// The device scenario's halves: arming one device (arm.cc) and its post-stage check families
// (device_checks.cc: fd, bus master, config space; dma_checks.cc: progress, data, fresh memcpy).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/memfd.h"
#include "base/result.h"
#include "stages/scenario.h"
#include "stages/scenarios/device/layout.h"
#include "vfio/vfio.h"

namespace lu::stages::device {

inline constexpr const char* kReopenEbusy = "device.reopen-ebusy";
inline constexpr const char* kFdPreserved = "device.fd-preserved";
inline constexpr const char* kBusMaster = "device.bus-master";
inline constexpr const char* kConfigSpace = "device.config-space";
inline constexpr const char* kDmaProgress = "dma.progress";
inline constexpr const char* kDmaData = "dma.data";
inline constexpr const char* kFreshMemcpy = "dma.fresh-memcpy";

Status arm(PreContext& ctx, const std::string& bdf, std::uint64_t copy_region);

// The post stage of one device. Reports its seven checks, in plan order, exactly once each.
class DevicePost {
 public:
  DevicePost(PostContext& ctx, const state::DeviceRecord& rec) : ctx_(ctx), rec_(rec), layout_(Layout::of(rec)) {}
  void run();

 private:
  // device_checks.cc
  std::unique_ptr<vfio::Device> check_reopen_ebusy();
  std::unique_ptr<vfio::Device> check_fd_preserved(std::string& why);
  void check_bus_master(vfio::Device& dev);
  void check_config_space(vfio::Device& dev);
  void report(const char* check, Capability c, bool held, std::string detail,
              std::vector<std::pair<std::string, std::string>> facts = {});
  // dma_checks.cc
  Status setup_dma(vfio::Device& dev);
  void check_progress();
  void check_data(vfio::Device& dev);
  void check_fresh_memcpy();

  PostContext& ctx_;
  const state::DeviceRecord& rec_;
  Layout layout_;
  Mapping map_;
  std::optional<vfio::DmaDriver> driver_;
  std::string dma_problem_;  // why the job from before the kexec cannot be checked
  bool from_luo_ = false;
};

}  // namespace lu::stages::device
