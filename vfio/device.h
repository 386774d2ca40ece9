// The VFIO device seam: one interface for the kernel backend (kernel_device.h) and the
// simulated machine's backend. No kernel headers here; region and irq indices follow vfio-pci.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"
#include "vfio/iova_allocator.h"

namespace lu::vfio {

// vfio-pci's region indices: BAR0..BAR5 = 0..5, ROM = 6, config space = 7.
inline constexpr std::uint32_t kConfigRegion = 7;
inline constexpr int kNumBars = 6;

struct RegionInfo {
  std::uint32_t index = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // where pread/pwrite/mmap on the device fd reach the region
  bool readable = false;
  bool writable = false;
  bool mmappable = false;
};

// Memory to map for DMA. A memfd is what LUO can preserve, so it is the normal case; `host` is
// a MAP_SHARED mapping of the same bytes (type1 and IOMMU_IOAS_MAP map by user address).
struct DmaBuffer {
  int memfd = -1;            // borrowed; -1 when only `host` is known
  std::uint64_t offset = 0;  // byte offset of the buffer within the memfd
  std::uint64_t size = 0;    // a multiple of 4096
  void* host = nullptr;      // borrowed; may be null for a memfd-only cdev+iommufd mapping
};

// How a mapping was made: only file-backed mappings survive an IOMMUFD live update.
enum class MapKind { kFile, kUserAddress };

enum class IrqKind { kMsi, kMsix };

// Guarantees of every implementation:
// - Errors carry the failing operation's name, the errno captured right after it, the BDF as
//   subject and a hint. Nothing is logged.
// - Config space is reached by pread/pwrite at the config region offset, never by mmap.
// - Thread safety: config, BAR and progress reads may be called from a driver's worker thread
//   while another thread maps memory; callers serialise writes to the same register.
// - Destruction releases (device fd first, then the IOMMU context: the kernel answers EBUSY
//   otherwise) and never throws. It does not disable interrupts on purpose: call
//   disable_interrupts() and check the result before a kexec.
class Device {
 public:
  virtual ~Device() = default;

  virtual const std::string& bdf() const = 0;
  // Only a cdev fd (/dev/vfio/devices/vfioN) can be preserved by LUO; group-derived fds get ENOENT.
  virtual bool is_cdev() const = 0;
  // The device fd, for PRESERVE_FD. -1 after release_fd().
  virtual int fd() const = 0;
  // Hands the device fd to the caller (the holder); the IOMMU context stays with this object.
  [[nodiscard]] virtual VfioDeviceFd release_fd() = 0;

  // Config space. offset + size must lie inside the config region (4096 bytes for PCIe).
  virtual Status config_read(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  virtual Status config_write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;

  virtual Result<RegionInfo> region_info(std::uint32_t index) = 0;
  // BAR registers; offset naturally aligned and inside the BAR. mmap-backed when the region
  // allows mmap, pread/pwrite otherwise.
  virtual Result<std::uint32_t> bar_read32(int bar, std::uint64_t offset) = 0;
  virtual Status bar_write32(int bar, std::uint64_t offset, std::uint32_t value) = 0;
  virtual Result<std::uint64_t> bar_read64(int bar, std::uint64_t offset) = 0;
  virtual Status bar_write64(int bar, std::uint64_t offset, std::uint64_t value) = 0;
  // Narrow registers (CBDMA's 8- and 16-bit channel registers share dwords with registers whose
  // writes have side effects, so a 32-bit read-modify-write would be wrong). The defaults answer
  // kUnavailable (EOPNOTSUPP): a backend that cannot issue such accesses says so.
  virtual Result<std::uint8_t> bar_read8(int bar, std::uint64_t offset);
  virtual Result<std::uint16_t> bar_read16(int bar, std::uint64_t offset);
  virtual Status bar_write8(int bar, std::uint64_t offset, std::uint8_t value);
  virtual Status bar_write16(int bar, std::uint64_t offset, std::uint16_t value);
  // One 64-byte write that reaches the device as a single transaction (MOVDIR64B): how a
  // descriptor is submitted to a DSA work-queue portal. `offset` is 64-byte aligned. Default:
  // kUnavailable (EOPNOTSUPP).
  virtual Status bar_submit64(int bar, std::uint64_t offset, std::span<const std::uint8_t, 64> descriptor);

  // The IOVA ranges the IOMMU accepts for this device.
  virtual Result<std::vector<IovaRange>> iova_ranges() = 0;
  // Maps `buffer` at a fixed `iova` (pick it with an IovaAllocator), readable and writable by
  // the device. Prefers a file-backed mapping when a memfd is given and the kernel supports it.
  virtual Result<MapKind> dma_map(const DmaBuffer& buffer, std::uint64_t iova) = 0;
  // Unmaps exactly a range given to dma_map.
  virtual Status dma_unmap(std::uint64_t iova, std::uint64_t size) = 0;

  // Number of vectors the device offers for `kind` (0 when it has no such capability).
  virtual Result<std::uint32_t> irq_count(IrqKind kind) = 0;
  // Routes vectors 0..eventfds.size()-1 to the given eventfds (borrowed; keep them open).
  virtual Status enable_irqs(IrqKind kind, std::span<const int> eventfds) = 0;
  virtual Status disable_irqs(IrqKind kind) = 0;
  // What this object enabled and has not disabled: a kexec with interrupts on is refused.
  virtual bool irqs_enabled(IrqKind kind) const = 0;

  // Function-level (or other) reset; kUnavailable when the device offers none.
  virtual Status reset() = 0;

  // Convenience forms of the above.
  Status enable_msix(std::span<const int> eventfds) { return enable_irqs(IrqKind::kMsix, eventfds); }
  Status disable_msix() { return disable_irqs(IrqKind::kMsix); }
  Status enable_msi(std::span<const int> eventfds) { return enable_irqs(IrqKind::kMsi, eventfds); }
  Status disable_msi() { return disable_irqs(IrqKind::kMsi); }
  // Disables every kind this object enabled; the step before handing fds to LUO.
  Status disable_interrupts();
  bool interrupts_enabled() const { return irqs_enabled(IrqKind::kMsi) || irqs_enabled(IrqKind::kMsix); }
};

// `count` non-blocking, close-on-exec eventfds for enable_irqs().
Result<std::vector<EventFd>> make_eventfds(std::size_t count);

}  // namespace lu::vfio
