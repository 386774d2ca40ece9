// The driver for QEMU's edu device (1234:11e8), the one DMA-capable device Debian 12's QEMU 7.2
// offers. edu moves at most 4 KiB per DMA, one transfer at a time, and only between RAM and its
// own buffer at device address 0x40000, so one memcpy is two DMAs (RAM -> buffer -> RAM) driven
// by the CPU.
//
// Choice: memcpy_start() hands the job to a worker thread and returns at once; the thread runs
// the `count` copies and memcpy_wait() waits for it. (The alternative, a step() the framework
// pumps, would make every caller a scheduler.) The consequence: an edu copy lives in this
// process, so it cannot continue across a kexec; edu serves fresh-memcpy checks, simdma and the
// DSA-class drivers serve continuity.
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "vfio/drivers/drivers.h"

namespace lu::vfio::drivers {
namespace {

namespace reg {
constexpr std::uint64_t kId = 0x00;        // u32: 0x010000ed (major 1, minor 0)
constexpr std::uint64_t kIrqRaise = 0x60;  // u32: raises the interrupt with this status value
constexpr std::uint64_t kIrqAck = 0x64;    // u32: clears these status bits
constexpr std::uint64_t kDmaSrc = 0x80;    // u64
constexpr std::uint64_t kDmaDst = 0x88;    // u64
constexpr std::uint64_t kDmaCount = 0x90;  // u64
constexpr std::uint64_t kDmaCmd = 0x98;    // u64
constexpr std::uint64_t kCmdStart = 1u << 0;         // set to start, reads 1 while busy
constexpr std::uint64_t kCmdToRam = 1u << 1;         // direction: device buffer -> RAM
constexpr std::uint32_t kIdMask = 0xffff00ff;        // version in bits 8..15 may vary
constexpr std::uint32_t kIdValue = 0x010000ed;
}  // namespace reg

constexpr std::uint64_t kBufferAddress = 0x40000;  // edu's 4 KiB buffer in its own address space
constexpr std::uint64_t kBufferSize = 4096;
// Each transfer completes after a 100 ms virtual-time timer; under TCG that can be much longer.
constexpr auto kTransferTimeout = std::chrono::seconds(10);

class Edu final : public Driver {
 public:
  explicit Edu(Device& device) : dev_(device) {}
  ~Edu() override { stop_worker(); }

  Status init(const DriverRegion&) override {
    auto id = LU_TRY(dev_.bar_read32(0, reg::kId));
    if ((id & reg::kIdMask) != reg::kIdValue)
      return fail(ErrorKind::kCorruptState, "edu init", dev_.bdf(),
                  "ID register reads " + std::to_string(id) + ", not edu's 0x010000ed");
    return {};
  }

  void remove() override { stop_worker(); }
  // Half the buffer: QEMU 7.2's edu_check_range() wants the end of a transfer strictly below
  // the end of the buffer, so a full 4 KiB transfer aborts QEMU with "DMA range ... out of
  // bounds"; later QEMUs accept it. Chunking in the framework makes the limit invisible above.
  std::uint64_t max_memcpy_size() const override { return kBufferSize / 2; }
  std::uint64_t max_memcpy_count() const override { return 1ull << 32; }

  Status memcpy_start(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) override {
    stop_worker();  // joins a finished worker; the framework guarantees none is running
    {
      std::lock_guard lock(mu_);
      done_ = false;
      error_.reset();
    }
    progress_ = 0;
    stop_ = false;
    worker_ = std::thread([this, src, dst, size, count] { run(src, dst, size, count); });
    return {};
  }

  Status memcpy_wait(Deadline deadline) override {
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return done_; }))
      return fail(ErrorKind::kSystem, "memcpy_wait", dev_.bdf(),
                  "edu still copying at the deadline after " + std::to_string(progress_.load()) + " copies", ETIMEDOUT);
    if (error_) return fail(*error_);
    return {};
  }

  Status send_msi() override {
    LU_TRY_VOID(dev_.bar_write32(0, reg::kIrqRaise, 1));
    return dev_.bar_write32(0, reg::kIrqAck, 1);
  }

  Result<std::uint64_t> progress() override { return progress_.load(); }

 private:
  void run(std::uint64_t src, std::uint64_t dst, std::uint64_t size, std::uint64_t count) {
    Status st;
    for (std::uint64_t i = 0; i < count && st && !stop_; ++i) {
      st = transfer(src, kBufferAddress, size, 0);
      if (st) st = transfer(kBufferAddress, dst, size, reg::kCmdToRam);
      if (st) ++progress_;
    }
    std::lock_guard lock(mu_);
    if (!st) error_ = st.error();
    done_ = true;
    cv_.notify_all();
  }

  Status transfer(std::uint64_t from, std::uint64_t to, std::uint64_t size, std::uint64_t direction) {
    LU_TRY_VOID(dev_.bar_write64(0, reg::kDmaSrc, from));
    LU_TRY_VOID(dev_.bar_write64(0, reg::kDmaDst, to));
    LU_TRY_VOID(dev_.bar_write64(0, reg::kDmaCount, size));
    LU_TRY_VOID(dev_.bar_write64(0, reg::kDmaCmd, reg::kCmdStart | direction));
    auto deadline = std::chrono::steady_clock::now() + kTransferTimeout;
    for (;;) {
      auto cmd = LU_TRY(dev_.bar_read64(0, reg::kDmaCmd));
      if (!(cmd & reg::kCmdStart)) return {};
      if (stop_) return fail(ErrorKind::kRefused, "edu DMA", dev_.bdf(), "stopped by remove()");
      if (std::chrono::steady_clock::now() >= deadline)
        return fail(ErrorKind::kSystem, "edu DMA", dev_.bdf(),
                    "a transfer did not complete in 10 s: is bus mastering on and the IOVA below 256 MiB?", ETIMEDOUT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  void stop_worker() {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
  }

  Device& dev_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> progress_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = true;
  std::optional<Error> error_;
};

bool probe(PciIds ids) { return ids.vendor == 0x1234 && ids.device == 0x11e8; }
std::unique_ptr<Driver> create(Device& device) { return std::make_unique<Edu>(device); }

}  // namespace

// 28-bit DMA mask: edu clamps addresses to 256 MiB.
// One MSI vector (edu has no MSI-X).
constinit const DriverInfo kEduDriver = {"edu", probe, create, 28, 0, IrqKind::kMsi, 0};

}  // namespace lu::vfio::drivers
