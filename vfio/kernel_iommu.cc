// The kernel's IOMMU side of a VFIO device: IOMMUFD (IOAS) or a type1 container.
#include "vfio/kernel_iommu.h"

#include <cerrno>
#include <cstring>

#include "vfio/grow_and_retry.h"
#include "vfio/uapi.h"

namespace lu::vfio {
namespace {

// One builder per struct: size/argsz = sizeof, everything else zero unless given.
uapi::IoasAlloc make_ioas_alloc() { return {.size = sizeof(uapi::IoasAlloc), .flags = 0, .out_ioas_id = 0}; }
uapi::DeviceBindIommufd make_bind(int iommufd) {
  return {.argsz = sizeof(uapi::DeviceBindIommufd), .flags = 0, .iommufd = iommufd, .out_devid = 0};
}
uapi::DeviceAttachIommufdPt make_attach(std::uint32_t pt_id) {
  return {.argsz = sizeof(uapi::DeviceAttachIommufdPt), .flags = 0, .pt_id = pt_id};
}
uapi::IoasIovaRanges make_iova_ranges(std::uint32_t ioas, std::uint32_t capacity, uapi::IommuIovaRange* out) {
  return {.size = sizeof(uapi::IoasIovaRanges), .ioas_id = ioas, .num_iovas = capacity, .reserved = 0,
          .allowed_iovas = reinterpret_cast<std::uintptr_t>(out), .out_iova_alignment = 0};
}
constexpr std::uint32_t kMapFlags =
    uapi::kIoasMapFixedIova | uapi::kIoasMapWriteable | uapi::kIoasMapReadable;
uapi::IoasMapFile make_map_file(std::uint32_t ioas, const DmaBuffer& b, std::uint64_t iova) {
  return {.size = sizeof(uapi::IoasMapFile), .flags = kMapFlags, .ioas_id = ioas, .fd = b.memfd,
          .start = b.offset, .length = b.size, .iova = iova};
}
uapi::IoasMap make_map(std::uint32_t ioas, const DmaBuffer& b, std::uint64_t iova) {
  return {.size = sizeof(uapi::IoasMap), .flags = kMapFlags, .ioas_id = ioas, .reserved = 0,
          .user_va = reinterpret_cast<std::uintptr_t>(b.host), .length = b.size, .iova = iova};
}
uapi::IoasUnmap make_unmap(std::uint32_t ioas, std::uint64_t iova, std::uint64_t size) {
  return {.size = sizeof(uapi::IoasUnmap), .ioas_id = ioas, .iova = iova, .length = size};
}
uapi::GroupStatus make_group_status() { return {.argsz = sizeof(uapi::GroupStatus), .flags = 0}; }
uapi::IommuType1DmaMap make_dma_map(const DmaBuffer& b, std::uint64_t iova) {
  return {.argsz = sizeof(uapi::IommuType1DmaMap), .flags = uapi::kDmaMapFlagRead | uapi::kDmaMapFlagWrite,
          .vaddr = reinterpret_cast<std::uintptr_t>(b.host), .iova = iova, .size = b.size};
}
uapi::IommuType1DmaUnmap make_dma_unmap(std::uint64_t iova, std::uint64_t size) {
  return {.argsz = sizeof(uapi::IommuType1DmaUnmap), .flags = 0, .iova = iova, .size = size};
}

Status require_size(const DmaBuffer& b, const std::string& subject) {
  if (b.size == 0 || b.size % 4096 != 0 || b.offset % 4096 != 0)
    return fail(ErrorKind::kInvalidInput, "map DMA", subject, "size and offset must be non-zero multiples of 4096");
  return {};
}

class IommufdContext final : public KernelIommu {
 public:
  IommufdContext(KernelCalls calls, IommuFd fd, std::uint32_t ioas) : calls_(std::move(calls)), fd_(std::move(fd)), ioas_(ioas) {}

  Result<std::vector<IovaRange>> iova_ranges() override {
    std::vector<uapi::IommuIovaRange> raw;
    std::uint32_t got = 0;
    LU_TRY_VOID(grow_and_retry(
        4,
        [&](std::size_t capacity) -> Result<std::optional<std::size_t>> {
          raw.assign(capacity, {});
          auto arg = make_iova_ranges(ioas_, static_cast<std::uint32_t>(capacity), raw.data());
          int err = 0;
          if (calls_.call_raw(fd_.get(), uapi::kIoasIovaRanges, &arg, &err) == 0) {
            got = arg.num_iovas;
            return std::optional<std::size_t>{};
          }
          // EMSGSIZE: the array was too small; num_iovas now says how many there are.
          if (err == EMSGSIZE) return std::optional<std::size_t>(arg.num_iovas);
          return fail(diagnose_ioctl(uapi::kIoasIovaRanges, err, calls_.subject()));
        },
        uapi::request_name(uapi::kIoasIovaRanges)));
    std::vector<IovaRange> out;
    for (std::uint32_t i = 0; i < got && i < raw.size(); ++i) out.push_back({raw[i].start, raw[i].last});
    return out;
  }

  Result<MapKind> map(const DmaBuffer& b, std::uint64_t iova) override {
    LU_TRY_VOID(require_size(b, calls_.subject()));
    if (b.memfd >= 0) {
      auto arg = make_map_file(ioas_, b, iova);
      int err = 0;
      if (calls_.call_raw(fd_.get(), uapi::kIoasMapFile, &arg, &err) == 0) return MapKind::kFile;
      // Kernels before 6.14 lack MAP_FILE: fall back to a user-address mapping, which works for
      // DMA but is not preservable by IOMMUFD live update (the caller sees kUserAddress).
      if (err != ENOTTY || !b.host) return fail(diagnose_ioctl(uapi::kIoasMapFile, err, calls_.subject()));
    }
    if (!b.host)
      return fail(ErrorKind::kInvalidInput, "map DMA", calls_.subject(), "give a memfd or a host address to map");
    auto arg = make_map(ioas_, b, iova);
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kIoasMap, &arg));
    return MapKind::kUserAddress;
  }

  Status unmap(std::uint64_t iova, std::uint64_t size) override {
    auto arg = make_unmap(ioas_, iova, size);
    LU_TRY_VOID(calls_.call(fd_.get(), uapi::kIoasUnmap, &arg));
    return {};
  }

 private:
  KernelCalls calls_;
  IommuFd fd_;
  std::uint32_t ioas_;
};

// Walks the VFIO_IOMMU_GET_INFO capability chain for the IOVA-range capability.
Result<std::vector<IovaRange>> parse_type1_ranges(const std::vector<std::uint8_t>& buf, const std::string& subject) {
  uapi::IommuType1Info info;
  std::memcpy(&info, buf.data(), sizeof info);
  // No capability chain (kernels before 5.4): the IOMMU accepts any IOVA its page table covers;
  // the DMA mask clips this later.
  std::vector<IovaRange> all = {{0, ~0ull}};
  if (!(info.flags & uapi::kIommuInfoCaps) || info.cap_offset == 0) return all;
  auto corrupt = [&] {
    return fail(ErrorKind::kCorruptState, uapi::request_name(uapi::kIommuGetInfo), subject,
                "the capability chain points outside the reply");
  };
  std::uint32_t offset = info.cap_offset;
  for (int hops = 0; offset != 0 && hops < 64; ++hops) {
    if (offset < sizeof info || offset + sizeof(uapi::InfoCapHeader) > buf.size()) return corrupt();
    uapi::InfoCapHeader header;
    std::memcpy(&header, buf.data() + offset, sizeof header);
    if (header.id == uapi::kIommuType1InfoCapIovaRange) {
      uapi::IommuType1InfoCapIovaRange cap;
      if (offset + sizeof cap > buf.size()) return corrupt();
      std::memcpy(&cap, buf.data() + offset, sizeof cap);
      std::size_t first = offset + sizeof cap;
      if (first + std::size_t{cap.nr_iovas} * sizeof(uapi::VfioIovaRange) > buf.size()) return corrupt();
      std::vector<IovaRange> out;
      for (std::uint32_t i = 0; i < cap.nr_iovas; ++i) {
        uapi::VfioIovaRange r;
        std::memcpy(&r, buf.data() + first + i * sizeof r, sizeof r);
        out.push_back({r.start, r.end});
      }
      return out;
    }
    offset = header.next;
  }
  return all;
}

// Teardown: the group fd closes before the container (members destroy in reverse), and the
// KernelDevice closes the device fd before destroying this.
class Type1Context final : public KernelIommu {
 public:
  Type1Context(KernelCalls calls, VfioContainerFd container, VfioGroupFd group)
      : calls_(std::move(calls)), container_(std::move(container)), group_(std::move(group)) {}

  Result<std::vector<IovaRange>> iova_ranges() override {
    std::vector<std::uint8_t> buf;
    LU_TRY_VOID(grow_and_retry(
        sizeof(uapi::IommuType1Info),
        [&](std::size_t capacity) -> Result<std::optional<std::size_t>> {
          // Kept in u64 words so the struct at its head is aligned.
          std::vector<std::uint64_t> words((capacity + 7) / 8, 0);
          uapi::IommuType1Info head{.argsz = static_cast<std::uint32_t>(capacity), .flags = 0, .iova_pgsizes = 0,
                                    .cap_offset = 0, .pad = 0};
          std::memcpy(words.data(), &head, sizeof head);
          LU_TRY_VOID(calls_.call(container_.get(), uapi::kIommuGetInfo, words.data()));
          std::memcpy(&head, words.data(), sizeof head);
          // The kernel raises argsz when the capability chain did not fit.
          if (head.argsz > capacity) return std::optional<std::size_t>(head.argsz);
          buf.assign(reinterpret_cast<std::uint8_t*>(words.data()), reinterpret_cast<std::uint8_t*>(words.data()) + capacity);
          return std::optional<std::size_t>{};
        },
        uapi::request_name(uapi::kIommuGetInfo)));
    return parse_type1_ranges(buf, calls_.subject());
  }

  Result<MapKind> map(const DmaBuffer& b, std::uint64_t iova) override {
    LU_TRY_VOID(require_size(b, calls_.subject()));
    if (!b.host)
      return fail(ErrorKind::kInvalidInput, "map DMA", calls_.subject(),
                  "type1 maps by user address: mmap the memfd (MAP_SHARED) and pass it as host");
    auto arg = make_dma_map(b, iova);
    LU_TRY_VOID(calls_.call(container_.get(), uapi::kIommuMapDma, &arg));
    return MapKind::kUserAddress;
  }

  Status unmap(std::uint64_t iova, std::uint64_t size) override {
    auto arg = make_dma_unmap(iova, size);
    LU_TRY_VOID(calls_.call(container_.get(), uapi::kIommuUnmapDma, &arg));
    return {};
  }

 private:
  KernelCalls calls_;
  VfioContainerFd container_;
  VfioGroupFd group_;
};

}  // namespace

Result<std::unique_ptr<KernelIommu>> attach_iommufd(const KernelCalls& calls, IommuFd iommufd, int device_fd) {
  auto alloc = make_ioas_alloc();
  LU_TRY_VOID(calls.call(iommufd.get(), uapi::kIoasAlloc, &alloc));
  auto bind = make_bind(iommufd.get());
  LU_TRY_VOID(calls.call(device_fd, uapi::kDeviceBindIommufd, &bind));
  auto attach = make_attach(alloc.out_ioas_id);
  LU_TRY_VOID(calls.call(device_fd, uapi::kDeviceAttachIommufdPt, &attach));
  return std::unique_ptr<KernelIommu>(std::make_unique<IommufdContext>(calls, std::move(iommufd), alloc.out_ioas_id));
}

Result<GroupAttach> attach_group(const KernelCalls& calls, VfioGroupFd group, VfioContainerFd container,
                                 unsigned long iommu_type, const std::string& bdf) {
  auto status = make_group_status();
  LU_TRY_VOID(calls.call(group.get(), uapi::kGroupGetStatus, &status));
  if (!(status.flags & uapi::kGroupFlagsViable))
    return fail(ErrorKind::kRefused, uapi::request_name(uapi::kGroupGetStatus), bdf,
                "the IOMMU group is not viable: every device in it must be bound to vfio-pci or to no driver "
                "(see /sys/kernel/iommu_groups/<group>/devices)");
  int version = LU_TRY(calls.call(container.get(), uapi::kGetApiVersion, nullptr));
  if (version != uapi::kApiVersion)
    return fail(ErrorKind::kUnavailable, uapi::request_name(uapi::kGetApiVersion), bdf,
                "unknown VFIO API version " + std::to_string(version));
  int supported = LU_TRY(calls.call_value(container.get(), uapi::kCheckExtension, iommu_type));
  if (supported <= 0)
    return fail(ErrorKind::kUnavailable, uapi::request_name(uapi::kCheckExtension), bdf,
                "the container does not offer IOMMU type " + std::to_string(iommu_type) + "; try another mode");
  int container_fd = container.get();
  LU_TRY_VOID(calls.call(group.get(), uapi::kGroupSetContainer, &container_fd));
  LU_TRY_VOID(calls.call_value(container.get(), uapi::kSetIommu, iommu_type));
  // The kernel reads a NUL-terminated device name; the BDF was validated, so no path tricks.
  std::string name = bdf;
  int fd = LU_TRY(calls.call(group.get(), uapi::kGroupGetDeviceFd, name.data()));
  GroupAttach out;
  out.device = VfioDeviceFd(fd);
  out.iommu = std::make_unique<Type1Context>(calls, std::move(container), std::move(group));
  return out;
}

}  // namespace lu::vfio
