// Pre stage for one device: open it, map its DMA memfd, start a long paced memcpy, disable
// interrupts, snapshot config space and bus master, sample the progress, then preserve the memfd
// (token 1) and the device (token 2) in the device's own session.
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "base/memfd.h"
#include "stages/scenarios/device/device.h"
#include "stages/scenarios/scenarios.h"
#include "vfio/vfio.h"

namespace lu::stages::device {
namespace {

// Some copies must happen before the sample, so it is not the start of the job, and so a device
// whose DMA cannot outlive this process (edu: the CPU drives it) still proves DMA worked here.
Result<std::uint64_t> sample_progress(vfio::DmaDriver& driver) {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::uint64_t done = LU_TRY(driver.progress());
  while (done == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done = LU_TRY(driver.progress());
  }
  return done;
}

// Interrupts on, as a driver in use has them; the job starts paced; interrupts off again (a
// kexec with interrupts on is refused); then the snapshot of what the kexec must keep.
Status start_job(PreContext& ctx, vfio::Device& dev, const Layout& l, Mapping& map, state::DeviceRecord& rec) {
  auto driver = LU_TRY(vfio::DmaDriver::probe(dev));
  LU_TRY_VOID(driver.init({l.region(), map.data() + 2 * l.copy_region, l.region_size}));
  rec.driver = driver.info().name;
  auto eventfds = LU_TRY(vfio::make_eventfds(1));
  std::vector<int> raw{eventfds[0].get()};
  if (LU_TRY(dev.irq_count(vfio::IrqKind::kMsix)) > 0) LU_TRY_VOID(dev.enable_msix(raw));
  bool paced = LU_TRY(driver.set_pace(kPace));
  rec.job.copy_size = std::min(l.copy_region, driver.max_memcpy_size());
  rec.job.copies = std::min(kCopies, driver.max_memcpy_count());
  rec.job.src_iova = l.src();
  rec.job.dst_iova = l.dst();
  LU_TRY_VOID(driver.memcpy_start(rec.job.src_iova, rec.job.dst_iova, rec.job.copy_size, rec.job.copies));
  LU_TRY_VOID(dev.disable_interrupts());
  rec.config_before = LU_TRY(vfio::pci::snapshot(dev));
  rec.bus_master_before = LU_TRY(vfio::pci::bus_master(dev));
  rec.job.progress_before = LU_TRY(sample_progress(driver));
  rec.job.sampled_ns = realtime_ns();
  ctx.note("dma: driver " + rec.driver + " on " + rec.bdf + (dev.is_cdev() ? " (cdev+iommufd), " : " (group+container), ") +
           std::to_string(rec.job.progress_before) + " copies of " + std::to_string(rec.job.copy_size) +
           " bytes done before the kexec" + (paced ? "" : " (the device runs at its own speed)"));
  return {};
}

// Only a cdev fd on a kernel with a VFIO file handler can be preserved; ENOENT says the kernel
// has none, which is an outcome (the device checks SKIP), not an error.
Status preserve(PreContext& ctx, vfio::Device& dev, int memfd, const Layout& l, state::DeviceRecord& rec) {
  if (!ctx.luo_available()) {
    rec.not_preservable = "LUO is not available on this kernel";
    return {};
  }
  auto* session = LU_TRY(ctx.create_session("device", std::to_string(ctx.state().devices.size())));
  rec.session = session->name();
  LU_TRY_VOID(session->preserve_fd(memfd, kMemfdToken));
  ctx.record_file(*session, {kMemfdToken, "memfd", "dma-buffer " + rec.bdf, l.total(), 0});
  rec.memfd_token = kMemfdToken;
  auto preserved = session->preserve_fd(dev.fd(), kDeviceToken);
  if (preserved) {
    ctx.record_file(*session, {kDeviceToken, "vfio-device", rec.bdf, 0, 0});
    rec.preserved = true;
    rec.device_token = kDeviceToken;
  } else if (preserved.error().err == ENOENT) {
    rec.not_preservable = preserved.error().message();
    ctx.note("device " + rec.bdf + " not preservable: the kernel has no LUO handler for VFIO devices (ENOENT)");
  } else {
    return fail(preserved.error());
  }
  return {};
}

}  // namespace

Status arm(PreContext& ctx, const std::string& bdf_arg, std::uint64_t copy_region) {
  auto dev = LU_TRY(ctx.machine().open_vfio_device(bdf_arg));
  state::DeviceRecord rec;
  rec.bdf = dev->bdf();
  rec.cdev = dev->is_cdev();
  Layout l;
  l.copy_region = copy_region ? copy_region : kDefaultCopySize;
  if (auto* info = vfio::find_driver(LU_TRY(vfio::pci::read_ids(*dev))))
    l.region_size = std::max(kMinRegion, page_round(info->region_size));
  rec.iova = kIova;
  rec.dma_size = l.copy_region;
  rec.region_size = l.region_size;
  auto memfd = LU_TRY(create_sized_memfd("lu-test-dma", l.total()));
  auto map = LU_TRY(Mapping::map_shared(memfd.get(), l.total(), 0, true, "DMA memfd"));
  LU_TRY_VOID(dev->dma_map({memfd.get(), 0, l.total(), map.data()}, kIova));
  fill_pattern({map.data(), l.copy_region}, std::hash<std::string>{}(ctx.state().nonce + rec.bdf));
  LU_TRY_VOID(start_job(ctx, *dev, l, map, rec));
  LU_TRY_VOID(preserve(ctx, *dev, memfd.get(), l, rec));
  if (!rec.preserved && rec.not_preservable == "LUO is not available on this kernel")
    ctx.note("device " + rec.bdf + " not preserved: LUO is not available on this kernel");
  ctx.state().devices.push_back(std::move(rec));
  // The holder keeps the DMA memory and the device open until the kexec, so the DMA runs on.
  ctx.keep_alive(std::move(memfd).into<AnyFdTag>(), "dma memfd " + dev->bdf());
  ctx.keep_alive(dev->release_fd().into<AnyFdTag>(), "vfio device " + dev->bdf());
  return {};
}

}  // namespace lu::stages::device
