// The device family: the fd behind LUO, bus mastering and the virtual config space.
//
// Config-space mask (bytes allowed to differ from the pre-kexec snapshot): the status register
// (0x06..0x07). Its bits are set by hardware events (error bits are write-1-to-clear, the
// interrupt-status bit follows the device) and say nothing about preserved configuration.
// Everything else, including the command register, BARs, interrupt line and the MSI-X
// capability, must be byte-identical.
#include "base/hex.h"
#include "stages/scenarios/device/device.h"

namespace lu::stages::device {
namespace {

bool masked(std::size_t offset) { return offset == vfio::pci::kStatus || offset == vfio::pci::kStatus + 1; }

}  // namespace

void DevicePost::report(const char* check, Capability c, bool held, std::string detail,
                        std::vector<std::pair<std::string, std::string>> facts) {
  auto r = ctx_.judge()(check_name(check, rec_.bdf), c, held, std::move(detail));
  for (auto& f : facts) r.facts.push_back(std::move(f));
  ctx_.report(std::move(r));
}

void DevicePost::run() {
  auto reopened = check_reopen_ebusy();
  std::string why;
  auto dev = check_fd_preserved(why);
  const bool from_luo = dev != nullptr;
  // Nothing preserved it: the re-opened device still tells what the kexec did to it.
  if (!dev) dev = std::move(reopened);
  if (!dev) {
    for (auto* c : {kBusMaster, kConfigSpace, kDmaProgress, kDmaData})
      report(c, c == kBusMaster ? Capability::kBusMaster : c == kConfigSpace ? Capability::kConfigSpace
                                                                             : Capability::kDmaContinuity,
             false, "no device to check: " + why);
    return report(kFreshMemcpy, Capability::kDeviceFd, false, "no device to check: " + why);
  }
  check_bus_master(*dev);
  check_config_space(*dev);
  from_luo_ = from_luo;
  if (auto s = setup_dma(*dev); !s) dma_problem_ = s.error().message();
  if (!from_luo && dma_problem_.empty()) dma_problem_ = "the DMA job did not survive: " + why;
  check_progress();
  check_data(*dev);
  check_fresh_memcpy();
  // Checked: quiesce the device and give its IOVA window back now, in order with everything else
  // this process asks, so the next iteration (a loop re-arms at once) finds the space free.
  if (driver_) (void)driver_->remove();
  if (map_.data()) (void)dev->dma_unmap(kIova, layout_.total());
}

// Before retrieving: opening a device LUO holds must be refused (EBUSY).
std::unique_ptr<vfio::Device> DevicePost::check_reopen_ebusy() {
  auto again = ctx_.machine().open_vfio_device(rec_.bdf);
  bool ebusy = !again && again.error().err == EBUSY;
  report(kReopenEbusy, Capability::kDeviceFd, ebusy,
         again ? "the device opened although LUO should hold it" : (ebusy ? "" : again.error().message()),
         {{"reopen", again ? "succeeded" : again.error().message()}});
  return again ? std::move(*again) : nullptr;
}

std::unique_ptr<vfio::Device> DevicePost::check_fd_preserved(std::string& why) {
  std::unique_ptr<vfio::Device> dev;
  if (!rec_.preserved) {
    why = rec_.not_preservable.empty() ? "the device was not preserved"
                                       : "the device was not preservable: " + rec_.not_preservable;
  } else if (auto session = ctx_.session(rec_.session); !session) {
    why = session.error().message();
  } else if (auto fd = (*session)->retrieve_fd(rec_.device_token); !fd) {
    why = fd.error().message();
  } else if (auto adopted = ctx_.machine().adopt_vfio_device(std::move(*fd).into<VfioDeviceTag>(), rec_.bdf); !adopted) {
    why = adopted.error().message();
  } else {
    dev = std::move(*adopted);
  }
  report(kFdPreserved, Capability::kDeviceFd, dev != nullptr, dev ? "" : why, {{"bdf", rec_.bdf}});
  return dev;
}

// Before any driver touches the device: init() turns bus mastering on.
void DevicePost::check_bus_master(vfio::Device& dev) {
  auto bm = vfio::pci::bus_master(dev);
  report(kBusMaster, Capability::kBusMaster, bm && *bm,
         bm ? (*bm ? "" : "bus mastering is off after the kexec") : bm.error().message(),
         {{"before", rec_.bus_master_before ? "1" : "0"}, {"after", bm ? (*bm ? "1" : "0") : "?"}});
}

void DevicePost::check_config_space(vfio::Device& dev) {
  auto snap = vfio::pci::snapshot(dev);
  const auto& before = rec_.config_before;  // empty in a damaged state: never "same"
  std::size_t differ = 0;
  std::string first;
  if (snap)
    for (std::size_t i = 0; i < before.size() && i < snap->size(); ++i)
      if (!masked(i) && before[i] != (*snap)[i]) {
        if (!differ) first = "config byte " + hex(i) + " was " + hex(before[i]) + ", now " + hex((*snap)[i]);
        ++differ;
      }
  bool same = snap && !before.empty() && snap->size() == before.size() && differ == 0;
  report(kConfigSpace, Capability::kConfigSpace, same, snap ? first : snap.error().message(),
         {{"differing_bytes", std::to_string(differ)}, {"mask", "0x06-0x07 (status register)"}});
}

}  // namespace lu::stages::device
