// The DMA family: the job started before the kexec progressed across it and still progresses,
// completes with its destination equal to its source, and the device takes a fresh memcpy.
#include <chrono>
#include <thread>

#include "base/clock.h"
#include "base/hex.h"
#include "stages/scenarios/device/device.h"
#include "stages/scenarios/scenarios.h"

namespace lu::stages::device {
namespace {

using Clock = std::chrono::steady_clock;

// Progress now, and once more within 2 s unless the job is complete.
struct Sample {
  std::uint64_t now = 0, later = 0;
};
Result<Sample> sample(vfio::DmaDriver& driver, std::uint64_t copies) {
  Sample s;
  s.now = s.later = LU_TRY(driver.progress());
  auto until = Clock::now() + std::chrono::seconds(2);
  while (s.later == s.now && s.now < copies && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s.later = LU_TRY(driver.progress());
  }
  return s;
}

}  // namespace

// The retrieved memfd back at its IOVA (a mapping kept across the kexec answers EEXIST: that is
// the kept mapping), or fresh memory for a re-opened device; then the driver, which does not
// reset or stop a copy in flight.
Status DevicePost::setup_dma(vfio::Device& dev) {
  const auto total = layout_.total();
  UniqueFd memfd;
  if (from_luo_) {
    auto* session = LU_TRY(ctx_.session(rec_.session));
    memfd = LU_TRY(session->retrieve_fd(rec_.memfd_token));
  } else {
    memfd = LU_TRY(create_sized_memfd("lu-test-dma-fresh", total)).into<AnyFdTag>();
  }
  map_ = LU_TRY(Mapping::map_shared(memfd.get(), total, 0, true, "DMA memfd"));
  if (!from_luo_) fill_pattern({map_.data(), layout_.copy_region}, std::hash<std::string>{}(rec_.bdf));
  if (auto m = dev.dma_map({memfd.get(), 0, total, map_.data()}, kIova); !m && m.error().kind != ErrorKind::kBusy)
    return fail(m.error());
  driver_.emplace(LU_TRY(vfio::DmaDriver::probe(dev)));
  LU_TRY_VOID(driver_->init({layout_.region(), map_.data() + 2 * layout_.copy_region, layout_.region_size}));
  if (from_luo_) driver_->assume_in_flight();
  return {};
}

void DevicePost::check_progress() {
  const auto& job = rec_.job;
  if (!driver_ || !from_luo_) return report(kDmaProgress, Capability::kDmaContinuity, false, dma_problem_);
  auto s = sample(*driver_, job.copies);
  std::int64_t now = realtime_ns();
  if (!s) return report(kDmaProgress, Capability::kDmaContinuity, false, s.error().message());
  bool held = s->now > job.progress_before && (s->later > s->now || s->now >= job.copies);
  std::string detail;
  if (s->now <= job.progress_before)
    detail = "no progress across the kexec (before " + std::to_string(job.progress_before) + ", after " +
             std::to_string(s->now) + ")";
  else if (!held)
    detail = "the DMA stopped progressing after the kexec (stuck at " + std::to_string(s->now) + " copies)";
  report(kDmaProgress, Capability::kDmaContinuity, held, detail,
         {{"progress_before", std::to_string(job.progress_before)},
          {"progress_after", std::to_string(s->now)},
          {"copies_during_gap", std::to_string(s->now > job.progress_before ? s->now - job.progress_before : 0)},
          {"sample_gap_ms", std::to_string((now - job.sampled_ns) / 1000000)}});
}

// At full speed to the end, then destination against source at memcmp speed.
void DevicePost::check_data(vfio::Device&) {
  const auto& job = rec_.job;
  if (!driver_ || !from_luo_) return report(kDmaData, Capability::kDmaContinuity, false, dma_problem_);
  const std::uint64_t size = std::min(job.copy_size, layout_.copy_region);
  (void)driver_->set_pace(0);
  auto waited = driver_->memcpy_wait(Clock::now() + std::chrono::seconds(5));
  auto done = driver_->progress();
  auto t0 = Clock::now();
  auto mm = vfio::first_mismatch({map_.data(), size}, {map_.data() + layout_.copy_region, size});
  auto verify_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  std::string detail;
  if (!waited) detail = "memcpy_wait: " + waited.error().message();
  else if (!done || *done != job.copies)
    detail = "the job did not complete: " + (done ? std::to_string(*done) : std::string("?")) + "/" +
             std::to_string(job.copies) + " copies (the device lost it)";
  else if (mm)
    detail = "destination differs from source at byte " + std::to_string(mm->offset) + ": expected " +
             hex(mm->expected) + ", found " + hex(mm->actual);
  report(kDmaData, Capability::kDmaContinuity, detail.empty(), detail,
         {{"copies", (done ? std::to_string(*done) : std::string("?")) + "/" + std::to_string(job.copies)},
          {"bytes_verified", std::to_string(size)},
          {"verify_us", std::to_string(verify_us)}});
}

// Not a continuity claim: a device that works after the kexec, whatever the profile.
void DevicePost::check_fresh_memcpy() {
  if (!driver_) return report(kFreshMemcpy, Capability::kDeviceFd, false, dma_problem_);
  const std::uint64_t size = std::min(rec_.job.copy_size ? rec_.job.copy_size : layout_.copy_region, layout_.copy_region);
  std::fill(map_.data() + layout_.copy_region, map_.data() + layout_.copy_region + size, 0);
  auto copied = driver_->memcpy(layout_.src(), layout_.dst(), size, Clock::now() + std::chrono::seconds(5));
  auto mm = vfio::first_mismatch({map_.data(), size}, {map_.data() + layout_.copy_region, size});
  std::string detail = !copied ? copied.error().message()
                               : mm ? "fresh copy differs at byte " + std::to_string(mm->offset) : "";
  auto r = CheckResult{check_name(kFreshMemcpy, rec_.bdf), detail.empty() ? Outcome::kPass : Outcome::kFail, detail, {}};
  r.facts.push_back({"bytes", std::to_string(size)});
  r.facts.push_back({"device", from_luo_ ? "retrieved from LUO" : "re-opened after the kexec"});
  ctx_.report(std::move(r));
}

}  // namespace lu::stages::device
