// A VFIO device across the kexec: its fd preserved through LUO, bus mastering, the virtual
// config space, and a DMA memcpy started before the kexec that keeps running through it.
// Runs only with --device (the first one given).
//
// Pre: open the device, probe its DMA driver, map a memfd (source, destination, driver region)
// at a fixed IOVA, start a long repeated memcpy at a modest rate (so it spans the blackout),
// disable interrupts, snapshot config space and bus master, sample the progress, preserve the
// memfd (token 1) then the device (token 2) in session "device".
// Post: reopen behind LUO's back (must be EBUSY), retrieve the device, compare bus master and
// config space before the driver touches anything, re-map the retrieved memfd at the recorded
// IOVA, check the DMA progressed across the kexec and still progresses, let it finish at full
// speed and verify the destination, then run a fresh memcpy.
//
// Config-space mask (bytes allowed to differ from the pre-kexec snapshot): the status register
// (0x06..0x07). Its bits are set by hardware events (error bits are write-1-to-clear, the
// interrupt-status bit follows the device) and say nothing about preserved configuration.
// Everything else, including the command register, BARs, interrupt line and the MSI-X
// capability, must be byte-identical.
#include <time.h>

#include <chrono>
#include <random>
#include <thread>

#include "base/hex.h"
#include "base/clock.h"
#include "base/memfd.h"
#include "stages/scenarios/scenarios.h"
#include "vfio/config_space.h"
#include "vfio/driver.h"
#include "vfio/drivers/simdma/regs.h"
#include "vfio/verify.h"

namespace lu::stages {
namespace {

constexpr std::uint64_t kCopySize = 64 * 1024;         // bytes per copy
constexpr std::uint64_t kCopies = 20000;               // copies in the job
constexpr std::uint32_t kRate = 200;                   // copies per second before the kexec: ~100 s of work
constexpr std::uint64_t kRegionSize = 4096;            // driver region
constexpr std::uint64_t kTotal = 2 * kCopySize + kRegionSize;
constexpr std::uint64_t kIova = 0x01000000;  // 16 MiB: below every driver's mask (edu: 28 bits)
constexpr std::uint64_t kSrc = kIova, kDst = kIova + kCopySize, kRegion = kIova + 2 * kCopySize;
constexpr std::uint64_t kMemfdToken = 1, kDeviceToken = 2;

// Bytes that may legitimately differ after the kexec (see the file comment).
bool masked(std::size_t offset) { return offset == vfio::pci::kStatus || offset == vfio::pci::kStatus + 1; }


class DeviceScenario final : public Scenario {
 public:
  std::string name() const override { return "device"; }
  std::vector<CheckInfo> checks() const override {
    return {{"device.reopen-ebusy", "opening the preserved device behind LUO's back fails with EBUSY until it is retrieved"},
            {"device.fd-preserved", "the device fd is retrieved from LUO by its token after the kexec"},
            {"device.bus-master", "bus mastering is still enabled after the kexec"},
            {"device.config-space", "config space is byte-identical to the pre-kexec snapshot (status register masked)"},
            {"dma.progress", "the memcpy started before the kexec progressed across it and still progresses"},
            {"dma.data", "the memcpy completes and its destination equals its source"},
            {"dma.fresh-memcpy", "a new memcpy after the kexec completes and verifies"}};
  }
  bool wanted(const StageOptions& options) const override { return !options.devices.empty(); }

  Status pre(PreContext& ctx) override {
    const std::string bdf_arg = ctx.options().devices.front();
    auto dev = LU_TRY(ctx.machine().open_vfio_device(bdf_arg));
    const std::string bdf = dev->bdf();
    auto& rec = ctx.state().scenario(name());
    rec.facts["bdf"] = bdf;

    auto memfd = LU_TRY(create_sized_memfd("lu-test-dma", kTotal));
    auto map = LU_TRY(Mapping::map_shared(memfd.get(), kTotal, 0, true, "DMA memfd"));
    LU_TRY_VOID(dev->dma_map({memfd.get(), 0, kTotal, map.data()}, kIova));
    fill_pattern({map.data(), kCopySize}, std::hash<std::string>{}(ctx.state().nonce));
    std::fill(map.data() + kCopySize, map.data() + 2 * kCopySize, 0);
    {
      auto driver = LU_TRY(vfio::DmaDriver::probe(*dev));
      LU_TRY_VOID(driver.init({kRegion, map.data() + 2 * kCopySize, kRegionSize}));
      rec.facts["driver"] = driver.info().name;
      // Interrupts on, as a driver in use has them; they must be off again before the kexec.
      auto eventfds = LU_TRY(vfio::make_eventfds(1));
      std::vector<int> raw{eventfds[0].get()};
      if (LU_TRY(dev->irq_count(vfio::IrqKind::kMsix)) > 0) LU_TRY_VOID(dev->enable_msix(raw));
      // Only simdma has a rate register; on other devices the job simply runs at device speed.
      if (std::string_view(driver.info().name) == "simdma")
        LU_TRY_VOID(dev->bar_write32(0, vfio::simdma::kRegRate, kRate));
      const std::uint64_t copy = std::min(kCopySize, driver.max_memcpy_size());
      const std::uint64_t copies = std::min(kCopies, driver.max_memcpy_count());
      LU_TRY_VOID(driver.memcpy_start(kSrc, kDst, copy, copies));
      rec.facts["job_copy_size"] = std::to_string(copy);
      rec.facts["job_copies"] = std::to_string(copies);
      LU_TRY_VOID(dev->disable_interrupts());
      // Snapshot after interrupts are off: that is the state the kexec must keep.
      auto config = LU_TRY(vfio::pci::snapshot(*dev));
      rec.blobs["config"] = config;
      rec.facts["bus_master"] = LU_TRY(vfio::pci::bus_master(*dev)) ? "1" : "0";
      // Let some copies happen so the sample is not the start of the job, and so a device whose
      // DMA cannot outlive this process (edu: the CPU drives it) still proves DMA worked here.
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      std::uint64_t done = LU_TRY(driver.progress());
      while (done == 0 && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        done = LU_TRY(driver.progress());
      }
      rec.facts["progress_before"] = std::to_string(done);
      ctx.note("dma: driver " + std::string(driver.info().name) + " on " + bdf +
               (dev->is_cdev() ? " (cdev+iommufd), " : " (group+container), ") + std::to_string(done) +
               " copies of " + std::to_string(copy) + " bytes done before the kexec");
      rec.facts["progress_sampled_ns"] = std::to_string(realtime_ns());
    }
    rec.facts["iova"] = hex(kIova);
    rec.facts["preserved"] = "0";

    if (ctx.luo_available()) {
      auto* session = LU_TRY(ctx.create_session(name(), "0"));
      LU_TRY_VOID(session->preserve_fd(memfd.get(), kMemfdToken));
      ctx.record_file(*session, {kMemfdToken, "memfd", "dma-buffer", kTotal, 0});
      auto preserved = session->preserve_fd(dev->fd(), kDeviceToken);
      if (preserved) {
        ctx.record_file(*session, {kDeviceToken, "vfio-device", bdf, 0, 0});
        rec.facts["preserved"] = "1";
      } else if (preserved.error().err == ENOENT) {
        rec.facts["not_preservable"] = preserved.error().message();
        ctx.note("device " + bdf + " not preservable: the kernel has no LUO handler for VFIO devices (ENOENT)");
      } else {
        return fail(preserved.error());
      }
    } else {
      ctx.note("device " + bdf + " not preserved: LUO is not available on this kernel");
    }
    // The holder keeps the DMA memory and the device open until the kexec, so the DMA runs on.
    ctx.keep_alive(std::move(memfd).into<AnyFdTag>(), "dma memfd " + bdf);
    ctx.keep_alive(dev->release_fd().into<AnyFdTag>(), "vfio device " + bdf);
    return {};
  }

  void post(PostContext& ctx) override {
    auto profile = ctx.profile();
    const state::ScenarioRecord* rec = ctx.state().find_scenario(name());
    const state::SessionRecord* srec = nullptr;
    for (auto& s : ctx.state().sessions)
      if (s.scenario == name()) srec = &s;
    auto report_all = [&](const std::string& why) {
      for (auto& c : checks()) ctx.report(judge(c.name, profile, capability(c.name), false, why));
    };
    if (!rec) return report_all("the device scenario was not armed in the pre stage");
    auto fact = [&](const std::string& k) { return rec->fact(k); };
    const std::string bdf = fact("bdf");
    const std::uint64_t job_copies = rec->number("job_copies").value_or(kCopies);
    // Never trust a size from the state beyond the buffer this scenario maps.
    const std::uint64_t job_size = std::min(rec->number("job_copy_size").value_or(kCopySize), kCopySize);

    // 1. Reopen behind LUO's back, before retrieving: must be EBUSY. When it opens (nothing
    //    preserved it), that device still tells what the kexec did to bus master and config.
    std::unique_ptr<vfio::Device> reopened;
    {
      auto again = ctx.machine().open_vfio_device(bdf);
      bool ebusy = !again && again.error().err == EBUSY;
      auto r = judge("device.reopen-ebusy", profile, Capability::kDeviceFd, ebusy,
                     again ? "the device opened although LUO should hold it" : (ebusy ? "" : again.error().message()));
      r.facts.push_back({"reopen", again ? "succeeded" : again.error().message()});
      ctx.report(std::move(r));
      if (again) reopened = std::move(*again);
    }

    // 2. Retrieve the device.
    std::unique_ptr<vfio::Device> dev;
    std::string why;
    if (fact("preserved") != "1") {
      why = fact("not_preservable").empty() ? "the device was not preserved (LUO unavailable in the pre stage)"
                                            : "the device was not preservable: " + fact("not_preservable");
    } else if (!srec) {
      why = "no device session was recorded";
    } else if (auto session = ctx.session(srec->name); !session) {
      why = session.error().message();
    } else if (auto fd = (*session)->retrieve_fd(kDeviceToken); !fd) {
      why = fd.error().message();
    } else if (auto adopted = ctx.machine().adopt_vfio_device(std::move(*fd).into<VfioDeviceTag>(), bdf); !adopted) {
      why = adopted.error().message();
    } else {
      dev = std::move(*adopted);
    }
    {
      auto r = judge("device.fd-preserved", profile, Capability::kDeviceFd, dev != nullptr, why);
      r.facts.push_back({"bdf", bdf});
      ctx.report(std::move(r));
    }
    const bool from_luo = dev != nullptr;
    if (!dev && reopened) {
      dev = std::move(reopened);
    } else if (!dev) {
      for (auto& c : checks())
        if (c.name != "device.reopen-ebusy" && c.name != "device.fd-preserved")
          ctx.report(judge(c.name, profile, capability(c.name), false, "no device to check: " + why));
      return;
    }

    // 3. Bus master and config space, before any driver touches the device.
    {
      auto bm = vfio::pci::bus_master(*dev);
      auto r = judge("device.bus-master", profile, Capability::kBusMaster, bm && *bm,
                     bm ? (*bm ? "" : "bus mastering is off after the kexec") : bm.error().message());
      r.facts.push_back({"before", fact("bus_master")});
      r.facts.push_back({"after", bm ? (*bm ? "1" : "0") : "?"});
      ctx.report(std::move(r));
    }
    {
      auto snap = vfio::pci::snapshot(*dev);
      static const std::vector<std::uint8_t> kNone;
      auto found = rec->blobs.find("config");
      const auto& before = found == rec->blobs.end() ? kNone : found->second;  // a damaged state: never "same"
      std::size_t differ = 0;
      std::string first;
      if (snap)
        for (std::size_t i = 0; i < before.size() && i < snap->size(); ++i)
          if (!masked(i) && before[i] != (*snap)[i]) {
            if (!differ)
              first = "config byte " + hex(i) + " was " + hex(before[i]) + ", now " + hex((*snap)[i]);
            ++differ;
          }
      bool same = snap && snap->size() == before.size() && differ == 0;
      auto r = judge("device.config-space", profile, Capability::kConfigSpace, same,
                     snap ? first : snap.error().message());
      r.facts.push_back({"differing_bytes", std::to_string(differ)});
      r.facts.push_back({"mask", "0x06-0x07 (status register)"});
      ctx.report(std::move(r));
    }

    // 4. DMA memory back at its IOVA, then the driver (init does not reset or stop DMA).
    Mapping map;
    std::string dma_problem;
    std::optional<vfio::DmaDriver> driver;
    if (!from_luo || !srec) dma_problem = "the DMA memory was not preserved: " + why;
    else if (auto s = setup_dma(ctx, *srec, *dev, map, driver); !s) dma_problem = s.error().message();

    // 5. Progress across the kexec, and still progressing now.
    std::uint64_t before = rec->number("progress_before").value_or(0);
    std::int64_t sampled = rec->number<std::int64_t>("progress_sampled_ns").value_or(0);
    {
      bool held = false;
      std::string detail = dma_problem;
      auto r = CheckResult{};
      std::uint64_t after = 0, later = 0;
      if (driver) {
        auto p = driver->progress();
        std::int64_t now = realtime_ns();
        if (p) {
          after = *p;
          later = after;
          auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
          while (later == after && after < job_copies && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            auto q = driver->progress();
            if (!q) break;
            later = *q;
          }
          held = after > before && (later > after || after >= job_copies);
          if (!held)
            detail = after <= before ? "no progress across the kexec (before " + std::to_string(before) + ", after " +
                                           std::to_string(after) + ")"
                                     : "the DMA stopped progressing after the kexec (stuck at " +
                                           std::to_string(after) + " copies)";
        } else {
          detail = p.error().message();
        }
        r = judge("dma.progress", profile, Capability::kDmaContinuity, held, detail);
        r.facts.push_back({"progress_before", std::to_string(before)});
        r.facts.push_back({"progress_after", std::to_string(after)});
        r.facts.push_back({"copies_during_gap", std::to_string(after > before ? after - before : 0)});
        r.facts.push_back({"sample_gap_ms", std::to_string((now - sampled) / 1000000)});
      } else {
        r = judge("dma.progress", profile, Capability::kDmaContinuity, false, detail);
      }
      ctx.report(std::move(r));
    }

    // 6. Let the job finish at full speed, then verify the destination.
    {
      bool held = false;
      std::string detail = dma_problem;
      CheckResult r;
      if (driver) {
        (void)dev->bar_write32(0, vfio::simdma::kRegRate, 0);
        auto waited = driver->memcpy_wait(std::chrono::steady_clock::now() + std::chrono::seconds(5));
        auto done = driver->progress();
        auto mm = vfio::first_mismatch({map.data(), job_size}, {map.data() + kCopySize, job_size});
        if (!waited) detail = "memcpy_wait: " + waited.error().message();
        else if (!done || *done != job_copies)
          detail = "the job did not complete: " + (done ? std::to_string(*done) : std::string("?")) + "/" +
                   std::to_string(job_copies) + " copies (the device lost it)";
        else if (mm)
          detail = "destination differs from source at byte " + std::to_string(mm->offset) + ": expected " +
                   hex(mm->expected) + ", found " + hex(mm->actual);
        else held = true;
        r = judge("dma.data", profile, Capability::kDmaContinuity, held, detail);
        r.facts.push_back({"copies", (done ? std::to_string(*done) : std::string("?")) + "/" + std::to_string(job_copies)});
      } else {
        r = judge("dma.data", profile, Capability::kDmaContinuity, false, detail);
      }
      ctx.report(std::move(r));
    }

    // 7. A fresh memcpy on the device after the kexec.
    {
      bool held = false;
      std::string detail = dma_problem;
      if (driver) {
        std::fill(map.data() + kCopySize, map.data() + kCopySize + job_size, 0);
        auto copied = driver->memcpy(kSrc, kDst, job_size, std::chrono::steady_clock::now() + std::chrono::seconds(5));
        auto mm = vfio::first_mismatch({map.data(), job_size}, {map.data() + kCopySize, job_size});
        if (!copied) detail = copied.error().message();
        else if (mm) detail = "fresh copy differs at byte " + std::to_string(mm->offset);
        else held = true;
      }
      ctx.report(judge("dma.fresh-memcpy", profile, Capability::kDeviceFd, held, detail));
    }
  }

 private:
  static Capability capability(const std::string& check) {
    if (check == "device.bus-master") return Capability::kBusMaster;
    if (check == "device.config-space") return Capability::kConfigSpace;
    if (check == "dma.progress" || check == "dma.data") return Capability::kDmaContinuity;
    return Capability::kDeviceFd;
  }

  // Retrieves the DMA memfd, maps it for the CPU and at the recorded IOVA for the device (a
  // mapping kept across the kexec answers EEXIST: that is the kept mapping), then probes and
  // initialises the driver with the copy from the previous boot marked in flight.
  static Status setup_dma(PostContext& ctx, const state::SessionRecord& srec, vfio::Device& dev, Mapping& map,
                          std::optional<vfio::DmaDriver>& driver) {
    auto* session = LU_TRY(ctx.session(srec.name));
    auto memfd = LU_TRY(session->retrieve_fd(kMemfdToken));
    map = LU_TRY(Mapping::map_shared(memfd.get(), kTotal, 0, true, "retrieved DMA memfd"));
    if (auto m = dev.dma_map({memfd.get(), 0, kTotal, map.data()}, kIova); !m && m.error().kind != ErrorKind::kBusy)
      return fail(m.error());
    driver.emplace(LU_TRY(vfio::DmaDriver::probe(dev)));
    LU_TRY_VOID(driver->init({kRegion, map.data() + 2 * kCopySize, kRegionSize}));
    driver->assume_in_flight();
    return {};
  }
};

}  // namespace

std::unique_ptr<Scenario> make_device_scenario() { return std::make_unique<DeviceScenario>(); }

}  // namespace lu::stages
