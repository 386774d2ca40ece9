// The kernel backend at the ioctl-bytes level: every request number (written out literally,
// not taken from uapi.h) and every struct field lu-test passes, in both modes, against a fake
// sysfs and /dev tree.
#include "vfio/kernel_device.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "tests/vfio/assert_ok.h"

#include "base/memfd.h"
#include "tests/vfio/fake_tree.h"
#include "tests/vfio/scripted_ioctl.h"
#include "vfio/config_space.h"

namespace lu::vfio {
namespace {

using lu::testing::FakeDevice;
using lu::testing::FakeTree;
using lu::testing::read_at;
using lu::testing::RecordedIoctl;
using lu::testing::ScriptedIoctl;

// _IO(';', 100 + n) and _IO(';', 0x80 + n), spelled out.
constexpr unsigned long kGetApiVersion = 0x3b64, kCheckExtension = 0x3b65, kSetIommu = 0x3b66;
constexpr unsigned long kGroupGetStatus = 0x3b67, kGroupSetContainer = 0x3b68, kGroupGetDeviceFd = 0x3b6a;
constexpr unsigned long kDeviceGetInfo = 0x3b6b, kGetRegionInfo = 0x3b6c, kGetIrqInfo = 0x3b6d;
constexpr unsigned long kSetIrqs = 0x3b6e, kDeviceReset = 0x3b6f;
constexpr unsigned long kIommuGetInfo = 0x3b70, kMapDma = 0x3b71, kUnmapDma = 0x3b72;
constexpr unsigned long kBindIommufd = 0x3b76, kAttachPt = 0x3b77;
constexpr unsigned long kIoasAlloc = 0x3b81, kIovaRanges = 0x3b84, kIoasMap = 0x3b85, kIoasUnmap = 0x3b86;
constexpr unsigned long kIoasMapFile = 0x3b8f;

constexpr std::uint32_t kIoasId = 7;
constexpr std::uint64_t kConfigOffset = 0x10000;  // where the fake region info puts config space
constexpr std::uint64_t kBar0Offset = 0x20000;    // mmappable
constexpr std::uint64_t kBar2Offset = 0x30000;    // pread/pwrite only

void put32(void* arg, std::size_t off, std::uint32_t v) { std::memcpy(static_cast<char*>(arg) + off, &v, 4); }
void put64(void* arg, std::size_t off, std::uint64_t v) { std::memcpy(static_cast<char*>(arg) + off, &v, 8); }
std::uint32_t get32(const void* arg, std::size_t off) {
  std::uint32_t v;
  std::memcpy(&v, static_cast<const char*>(arg) + off, 4);
  return v;
}

// A kernel that answers like vfio-pci on a PCIe device with a 4 KiB BAR0 (mmappable) and a
// 4 KiB BAR2 (not), a type1 container reporting two IOVA ranges, and an iommufd reporting six.
class FakeKernel {
 public:
  FakeKernel() {
    gw.recorder.arg_size = [](unsigned long r) -> std::size_t {
      switch (r) {
        case kGroupGetStatus: return 8;
        case kGroupSetContainer: return 4;
        case kGroupGetDeviceFd: return 13;
        case kDeviceGetInfo: return 24;
        case kGetRegionInfo: return 32;
        case kGetIrqInfo: return 16;
        case kSetIrqs: return 20;
        case kIommuGetInfo: return 24;
        case kMapDma: return 32;
        case kUnmapDma: return 24;
        case kBindIommufd: return 16;
        case kAttachPt: return 12;
        case kIoasAlloc: return 12;
        case kIovaRanges: return 32;
        case kIoasMap: case kIoasMapFile: return 40;
        case kIoasUnmap: return 24;
      }
      return 0;  // integer and no-argument requests
    };
    gw.recorder.respond = [this](int, unsigned long r, void* arg) { return respond(r, arg); };
    gw.return_value = [this](unsigned long r) {
      if (r == kCheckExtension) return 1;
      if (r == kGroupGetDeviceFd) return ::open(device_node.c_str(), O_RDWR | O_CLOEXEC);
      return 0;
    };
  }

  int respond(unsigned long r, void* arg) {
    if (auto it = fail_with.find(r); it != fail_with.end()) return it->second;
    switch (r) {
      case kGroupGetStatus: put32(arg, 4, viable ? 1u : 0u); break;
      case kDeviceGetInfo:
        put32(arg, 4, 0x3);  // RESET | PCI
        put32(arg, 8, 9);
        put32(arg, 12, 5);
        break;
      case kGetRegionInfo: {
        std::uint32_t index = get32(arg, 8);
        std::uint64_t size = 0, offset = 0;
        std::uint32_t flags = 0;
        if (index == 7) { size = 4096; offset = kConfigOffset; flags = 0x3; }
        if (index == 0) { size = 4096; offset = kBar0Offset; flags = 0x7; }
        if (index == 2) { size = 4096; offset = kBar2Offset; flags = 0x3; }
        put32(arg, 4, flags);
        put64(arg, 16, size);
        put64(arg, 24, offset);
        break;
      }
      case kGetIrqInfo: put32(arg, 12, get32(arg, 8) == 2 ? 8 : 1); put32(arg, 4, 1); break;
      case kSetIrqs: irq_sets.emplace_back(static_cast<std::uint8_t*>(arg), static_cast<std::uint8_t*>(arg) + get32(arg, 0)); break;
      case kIoasAlloc: put32(arg, 8, kIoasId); break;
      case kIovaRanges: {
        constexpr std::uint32_t kRanges = 6;
        std::uint32_t capacity = get32(arg, 8);
        put32(arg, 8, kRanges);
        if (capacity < kRanges) return EMSGSIZE;
        std::uint64_t ptr;
        std::memcpy(&ptr, static_cast<char*>(arg) + 16, 8);
        auto* out = reinterpret_cast<std::uint64_t*>(ptr);
        for (std::uint32_t i = 0; i < kRanges; ++i) {
          out[2 * i] = (i + 1) * 0x100000ull;
          out[2 * i + 1] = (i + 1) * 0x100000ull + 0xfffff;
        }
        put64(arg, 24, 4096);
        break;
      }
      case kIommuGetInfo: {
        // Header 24 bytes, then the IOVA-range capability with two ranges: 24 + 16 + 32 = 72.
        constexpr std::uint32_t kNeeded = 72;
        std::uint32_t argsz = get32(arg, 0);
        put32(arg, 4, 0x3);  // PGSIZES | CAPS
        put64(arg, 8, 0x40201000);
        if (argsz < kNeeded) {
          put32(arg, 0, kNeeded);
          put32(arg, 16, 0);
          break;
        }
        put32(arg, 16, 24);
        auto* cap = static_cast<std::uint8_t*>(arg) + 24;
        std::uint16_t id = 1, version = 1;
        std::memcpy(cap, &id, 2);
        std::memcpy(cap + 2, &version, 2);
        put32(cap, 4, 0);  // next: end of chain
        put32(cap, 8, 2);  // nr_iovas
        put64(cap, 16, 0);
        put64(cap, 24, 0xfedfffff);
        put64(cap, 32, 0xfef00000);
        put64(cap, 40, 0xffffffffffffull);
        break;
      }
    }
    return 0;
  }

  const RecordedIoctl& only(unsigned long request) const {
    const RecordedIoctl* found = nullptr;
    int n = 0;
    for (const auto& c : gw.calls())
      if (c.request == request) { found = &c; ++n; }
    EXPECT_EQ(n, 1) << "request 0x" << std::hex << request;
    static RecordedIoctl none{};
    return found ? *found : none;
  }

  ScriptedIoctl gw;
  std::string device_node;
  bool viable = true;
  std::map<unsigned long, int> fail_with;
  std::vector<std::vector<std::uint8_t>> irq_sets;
};

class KernelDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add(FakeDevice{});
    kernel.device_node = tree.dev() + "/vfio/devices/vfio3";
    options = {.gateway = &kernel.gw, .sysfs_root = tree.sys(), .dev_root = tree.dev()};
  }
  std::unique_ptr<Device> open(IommuMode mode) {
    auto dev = open_device("0000:00:04.0", mode, options);
    EXPECT_TRUE(dev) << dev.error().message();
    return dev ? std::move(*dev) : nullptr;
  }

  FakeTree tree;
  FakeKernel kernel;
  KernelOptions options;
};

// ---- cdev + iommufd ----

TEST_F(KernelDeviceTest, CdevOpenIssuesIoasAllocBindAttachGetInfoInOrder) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  EXPECT_TRUE(dev->is_cdev());
  EXPECT_EQ(kernel.gw.requests(), (std::vector<unsigned long>{kIoasAlloc, kBindIommufd, kAttachPt, kDeviceGetInfo}));
  const auto& calls = kernel.gw.calls();
  const int iommufd = calls[0].fd;
  EXPECT_NE(iommufd, dev->fd());
  EXPECT_EQ(calls[1].fd, dev->fd());
  EXPECT_EQ(calls[2].fd, dev->fd());
  EXPECT_EQ(calls[3].fd, dev->fd());

  const auto& alloc = calls[0].bytes;
  EXPECT_EQ(read_at<std::uint32_t>(alloc, 0), 12u) << "size";
  EXPECT_EQ(read_at<std::uint32_t>(alloc, 4), 0u) << "flags";

  const auto& bind = calls[1].bytes;
  EXPECT_EQ(read_at<std::uint32_t>(bind, 0), 16u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(bind, 4), 0u) << "flags";
  EXPECT_EQ(read_at<std::int32_t>(bind, 8), iommufd) << "iommufd";

  const auto& attach = calls[2].bytes;
  EXPECT_EQ(read_at<std::uint32_t>(attach, 0), 12u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(attach, 4), 0u) << "flags";
  EXPECT_EQ(read_at<std::uint32_t>(attach, 8), kIoasId) << "pt_id = the allocated IOAS";

  EXPECT_EQ(read_at<std::uint32_t>(calls[3].bytes, 0), 24u) << "VFIO_DEVICE_GET_INFO argsz";
}

TEST_F(KernelDeviceTest, AdoptedCdevFdIsBoundToAFreshIommufd) {
  VfioDeviceFd fd(::open(kernel.device_node.c_str(), O_RDWR | O_CLOEXEC));
  const int raw = fd.get();
  auto dev = adopt_cdev_device(std::move(fd), "0000:00:04.0", options);
  ASSERT_TRUE(dev) << dev.error().message();
  EXPECT_EQ((*dev)->fd(), raw);
  EXPECT_EQ(kernel.gw.requests(), (std::vector<unsigned long>{kIoasAlloc, kBindIommufd, kAttachPt, kDeviceGetInfo}));
  EXPECT_EQ(kernel.gw.calls()[1].fd, raw);
}

TEST_F(KernelDeviceTest, MapFileCarriesMemfdOffsetLengthIovaAndFlags) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  auto mem = create_sized_memfd("dma", 3 * 4096);
  ASSERT_TRUE(mem) << mem.error().message();
  auto kind = dev->dma_map({.memfd = mem->get(), .offset = 4096, .size = 8192}, 0x200000);
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(*kind, MapKind::kFile);
  const auto& b = kernel.only(kIoasMapFile).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(b, 0), 40u) << "size";
  EXPECT_EQ(read_at<std::uint32_t>(b, 4), 0x7u) << "flags FIXED_IOVA | WRITEABLE | READABLE";
  EXPECT_EQ(read_at<std::uint32_t>(b, 8), kIoasId) << "ioas_id";
  EXPECT_EQ(read_at<std::int32_t>(b, 12), mem->get()) << "fd";
  EXPECT_EQ(read_at<std::uint64_t>(b, 16), 4096u) << "start";
  EXPECT_EQ(read_at<std::uint64_t>(b, 24), 8192u) << "length";
  EXPECT_EQ(read_at<std::uint64_t>(b, 32), 0x200000u) << "iova";
}

TEST_F(KernelDeviceTest, KernelWithoutMapFileFallsBackToUserAddressMapping) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  kernel.fail_with[kIoasMapFile] = ENOTTY;
  alignas(4096) static std::uint8_t buffer[8192];
  auto kind = dev->dma_map({.memfd = 9, .offset = 0, .size = 8192, .host = buffer}, 0x400000);
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(*kind, MapKind::kUserAddress) << "the caller learns the mapping is not preservable";
  const auto& b = kernel.only(kIoasMap).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(b, 0), 40u) << "size";
  EXPECT_EQ(read_at<std::uint32_t>(b, 4), 0x7u) << "flags";
  EXPECT_EQ(read_at<std::uint32_t>(b, 8), kIoasId) << "ioas_id";
  EXPECT_EQ(read_at<std::uint64_t>(b, 16), reinterpret_cast<std::uintptr_t>(buffer)) << "user_va";
  EXPECT_EQ(read_at<std::uint64_t>(b, 24), 8192u) << "length";
  EXPECT_EQ(read_at<std::uint64_t>(b, 32), 0x400000u) << "iova";
}

TEST_F(KernelDeviceTest, MapFileErrorOtherThanEnottyIsReportedWithRequestNameAndBdf) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  kernel.fail_with[kIoasMapFile] = ENOMEM;
  alignas(4096) static std::uint8_t buffer[4096];
  auto kind = dev->dma_map({.memfd = 9, .size = 4096, .host = buffer}, 0x400000);
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().op, "IOMMU_IOAS_MAP_FILE");
  EXPECT_EQ(kind.error().err, ENOMEM);
  EXPECT_EQ(kind.error().subject, "0000:00:04.0");
  EXPECT_NE(kind.error().hint.find("RLIMIT_MEMLOCK"), std::string::npos) << kind.error().message();
}

TEST_F(KernelDeviceTest, IoasUnmapCarriesIoasIovaLength) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  LU_ASSERT_OK(dev->dma_unmap(0x200000, 0x3000));
  const auto& b = kernel.only(kIoasUnmap).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(b, 0), 24u);
  EXPECT_EQ(read_at<std::uint32_t>(b, 4), kIoasId);
  EXPECT_EQ(read_at<std::uint64_t>(b, 8), 0x200000u);
  EXPECT_EQ(read_at<std::uint64_t>(b, 16), 0x3000u);
}

TEST_F(KernelDeviceTest, IovaRangesGrowsTheArrayAfterEmsgsize) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  auto ranges = dev->iova_ranges();
  ASSERT_TRUE(ranges) << ranges.error().message();
  ASSERT_EQ(ranges->size(), 6u);
  EXPECT_EQ((*ranges)[0], (IovaRange{0x100000, 0x1fffff}));
  EXPECT_EQ((*ranges)[5], (IovaRange{0x600000, 0x6fffff}));
  std::vector<std::vector<std::uint8_t>> calls;
  for (const auto& c : kernel.gw.calls())
    if (c.request == kIovaRanges) calls.push_back(c.bytes);
  ASSERT_EQ(calls.size(), 2u) << "one too-small call, one that fits";
  EXPECT_EQ(read_at<std::uint32_t>(calls[0], 0), 32u) << "size";
  EXPECT_EQ(read_at<std::uint32_t>(calls[0], 4), kIoasId) << "ioas_id";
  EXPECT_EQ(read_at<std::uint32_t>(calls[0], 8), 4u) << "first capacity";
  EXPECT_EQ(read_at<std::uint32_t>(calls[1], 8), 6u) << "capacity the kernel asked for";
  EXPECT_NE(read_at<std::uint64_t>(calls[1], 16), 0u) << "allowed_iovas points at the array";
}

TEST_F(KernelDeviceTest, CdevBindOnOldKernelIsUnavailableNotAFailure) {
  kernel.fail_with[kBindIommufd] = ENOTTY;
  auto dev = open_device("0000:00:04.0", IommuMode::kIommufd, options);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kUnavailable) << dev.error().message();
  EXPECT_EQ(dev.error().op, "VFIO_DEVICE_BIND_IOMMUFD");
  EXPECT_EQ(dev.error().err, ENOTTY);
  EXPECT_EQ(dev.error().subject, "0000:00:04.0");
}

// ---- group + container ----

TEST_F(KernelDeviceTest, GroupOpenIssuesTheContainerSequenceInOrder) {
  auto dev = open(IommuMode::kVfioType1v2);
  ASSERT_TRUE(dev);
  EXPECT_FALSE(dev->is_cdev()) << "group-derived fds are not preservable";
  EXPECT_EQ(kernel.gw.requests(), (std::vector<unsigned long>{kGroupGetStatus, kGetApiVersion, kCheckExtension,
                                                              kGroupSetContainer, kSetIommu, kGroupGetDeviceFd,
                                                              kDeviceGetInfo}));
  const auto& calls = kernel.gw.calls();
  const int group = calls[0].fd, container = calls[1].fd;
  EXPECT_NE(group, container);
  EXPECT_EQ(read_at<std::uint32_t>(calls[0].bytes, 0), 8u) << "GROUP_GET_STATUS argsz";
  EXPECT_EQ(calls[2].fd, container);
  EXPECT_EQ(kernel.gw.raw_args[1], 0u) << "GET_API_VERSION takes no argument";
  EXPECT_EQ(kernel.gw.raw_args[2], 3u) << "CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU)";
  EXPECT_EQ(calls[3].fd, group);
  EXPECT_EQ(read_at<std::int32_t>(calls[3].bytes, 0), container) << "SET_CONTAINER passes the container fd";
  EXPECT_EQ(calls[4].fd, container);
  EXPECT_EQ(kernel.gw.raw_args[4], 3u) << "SET_IOMMU(VFIO_TYPE1v2_IOMMU)";
  EXPECT_EQ(calls[5].fd, group);
  EXPECT_EQ(std::string(calls[5].bytes.begin(), calls[5].bytes.end()), std::string("0000:00:04.0\0", 13));
  EXPECT_EQ(calls[6].fd, dev->fd());
}

TEST_F(KernelDeviceTest, EveryGroupModeUsesItsContainerAndIommuType) {
  struct Row {
    IommuMode mode;
    std::uintptr_t type;
  };
  for (Row row : {Row{IommuMode::kVfioType1, 1}, Row{IommuMode::kVfioType1v2, 3},
                  Row{IommuMode::kIommufdCompatType1, 1}, Row{IommuMode::kIommufdCompatType1v2, 3}}) {
    FakeKernel k;
    k.device_node = kernel.device_node;
    KernelOptions o = options;
    o.gateway = &k.gw;
    auto dev = open_device("0000:00:04.0", row.mode, o);
    ASSERT_TRUE(dev) << mode_info(row.mode).name << ": " << dev.error().message();
    EXPECT_EQ(k.gw.raw_args[2], row.type) << mode_info(row.mode).name;
    EXPECT_EQ(k.gw.raw_args[4], row.type) << mode_info(row.mode).name;
  }
}

TEST_F(KernelDeviceTest, GroupThatIsNotViableIsRefusedWithAHint) {
  kernel.viable = false;
  auto dev = open_device("0000:00:04.0", IommuMode::kVfioType1v2, options);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kRefused) << dev.error().message();
  EXPECT_EQ(dev.error().op, "VFIO_GROUP_GET_STATUS");
  EXPECT_NE(dev.error().hint.find("viable"), std::string::npos) << dev.error().message();
}

TEST_F(KernelDeviceTest, PreservedDeviceAfterKexecGivesEbusyFromGetDeviceFd) {
  kernel.fail_with[kGroupGetDeviceFd] = EBUSY;
  auto dev = open_device("0000:00:04.0", IommuMode::kVfioType1v2, options);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kBusy) << dev.error().message();
  EXPECT_EQ(dev.error().op, "VFIO_GROUP_GET_DEVICE_FD");
  EXPECT_EQ(dev.error().err, EBUSY);
  EXPECT_NE(dev.error().hint.find("LUO"), std::string::npos) << dev.error().message();
}

TEST_F(KernelDeviceTest, Type1MapAndUnmapCarryArgszFlagsVaddrIovaSize) {
  auto dev = open(IommuMode::kVfioType1v2);
  ASSERT_TRUE(dev);
  alignas(4096) static std::uint8_t buffer[4 * 4096];
  auto kind = dev->dma_map({.memfd = -1, .size = sizeof buffer, .host = buffer}, 0x100000);
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(*kind, MapKind::kUserAddress);
  const auto& m = kernel.only(kMapDma);
  EXPECT_EQ(m.fd, kernel.gw.calls()[1].fd) << "issued on the container";
  EXPECT_EQ(read_at<std::uint32_t>(m.bytes, 0), 32u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(m.bytes, 4), 3u) << "flags READ | WRITE";
  EXPECT_EQ(read_at<std::uint64_t>(m.bytes, 8), reinterpret_cast<std::uintptr_t>(buffer)) << "vaddr";
  EXPECT_EQ(read_at<std::uint64_t>(m.bytes, 16), 0x100000u) << "iova";
  EXPECT_EQ(read_at<std::uint64_t>(m.bytes, 24), sizeof buffer) << "size";

  LU_ASSERT_OK(dev->dma_unmap(0x100000, sizeof buffer));
  const auto& u = kernel.only(kUnmapDma).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(u, 0), 24u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(u, 4), 0u) << "flags";
  EXPECT_EQ(read_at<std::uint64_t>(u, 8), 0x100000u) << "iova";
  EXPECT_EQ(read_at<std::uint64_t>(u, 16), sizeof buffer) << "size";
}

TEST_F(KernelDeviceTest, Type1MapWithoutHostAddressIsInvalidInput) {
  auto dev = open(IommuMode::kVfioType1);
  ASSERT_TRUE(dev);
  auto kind = dev->dma_map({.memfd = 5, .size = 4096}, 0x100000);
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().kind, ErrorKind::kInvalidInput) << kind.error().message();
}

TEST_F(KernelDeviceTest, Type1IovaRangesComeFromTheCapabilityChainAfterGrowingArgsz) {
  auto dev = open(IommuMode::kVfioType1v2);
  ASSERT_TRUE(dev);
  auto ranges = dev->iova_ranges();
  ASSERT_TRUE(ranges) << ranges.error().message();
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[0], (IovaRange{0, 0xfedfffff}));
  EXPECT_EQ((*ranges)[1], (IovaRange{0xfef00000, 0xffffffffffff}));
  std::vector<std::uint32_t> argsz;
  for (const auto& c : kernel.gw.calls())
    if (c.request == kIommuGetInfo) argsz.push_back(read_at<std::uint32_t>(c.bytes, 0));
  EXPECT_EQ(argsz, (std::vector<std::uint32_t>{24, 72}));
}

// ---- device operations (both modes share them) ----

TEST_F(KernelDeviceTest, ConfigSpaceIsReadAndWrittenWithPreadPwriteAtTheRegionOffset) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  // Pre-fill the "device" at the config region offset: vendor 0x1b36, device 0x7110.
  int fd = ::open(kernel.device_node.c_str(), O_RDWR);
  const std::uint8_t ids[4] = {0x36, 0x1b, 0x10, 0x71};
  ASSERT_EQ(::pwrite(fd, ids, 4, kConfigOffset), 4);
  auto got = pci::read_ids(*dev);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->vendor, 0x1b36);
  EXPECT_EQ(got->device, 0x7110);
  LU_ASSERT_OK(pci::set_bus_master(*dev, true));
  std::uint8_t cmd[2] = {};
  ASSERT_EQ(::pread(fd, cmd, 2, kConfigOffset + 4), 2);
  EXPECT_EQ(cmd[0], 0x06) << "memory decoding and bus master set";
  ::close(fd);
  const auto& region = kernel.only(kGetRegionInfo).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(region, 0), 32u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(region, 8), 7u) << "index = VFIO_PCI_CONFIG_REGION_INDEX";
}

TEST_F(KernelDeviceTest, ConfigAccessOutsideTheRegionIsRefusedBeforeAnySyscall) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  std::uint8_t buf[8];
  auto st = dev->config_read(4092, buf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << st.error().message();
}

TEST_F(KernelDeviceTest, MmappableBarIsAccessedThroughTheMappingAndOthersThroughPwrite) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  LU_ASSERT_OK(dev->bar_write32(0, 0x10, 0xdeadbeef));
  LU_ASSERT_OK(dev->bar_write64(2, 0x18, 0x0123456789abcdefull));
  int fd = ::open(kernel.device_node.c_str(), O_RDONLY);
  std::uint32_t v32 = 0;
  std::uint64_t v64 = 0;
  ASSERT_EQ(::pread(fd, &v32, 4, kBar0Offset + 0x10), 4);
  ASSERT_EQ(::pread(fd, &v64, 8, kBar2Offset + 0x18), 8);
  ::close(fd);
  EXPECT_EQ(v32, 0xdeadbeefu);
  EXPECT_EQ(v64, 0x0123456789abcdefull);
  auto back32 = dev->bar_read32(0, 0x10);
  ASSERT_TRUE(back32) << back32.error().message();
  EXPECT_EQ(*back32, 0xdeadbeefu);
  auto back64 = dev->bar_read64(2, 0x18);
  ASSERT_TRUE(back64) << back64.error().message();
  EXPECT_EQ(*back64, 0x0123456789abcdefull);
}

TEST_F(KernelDeviceTest, MisalignedOrOutOfRangeBarAccessIsInvalidInput) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  EXPECT_FALSE(dev->bar_read32(0, 2));
  EXPECT_FALSE(dev->bar_read64(0, 4096));
  EXPECT_FALSE(dev->bar_read32(6, 0));
  auto st = dev->bar_read32(0, 4094);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput) << st.error().message();
}

TEST_F(KernelDeviceTest, MsixEnableCarriesTheEventfdsAndDisableTearsAllVectorsDown) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  auto fds = make_eventfds(2);
  ASSERT_TRUE(fds) << fds.error().message();
  const int raw[2] = {(*fds)[0].get(), (*fds)[1].get()};
  LU_ASSERT_OK(dev->enable_msix(raw));
  EXPECT_TRUE(dev->interrupts_enabled());
  LU_ASSERT_OK(dev->disable_interrupts());
  EXPECT_FALSE(dev->interrupts_enabled());
  ASSERT_EQ(kernel.irq_sets.size(), 2u);
  const auto& on = kernel.irq_sets[0];
  ASSERT_EQ(on.size(), 28u);
  EXPECT_EQ(read_at<std::uint32_t>(on, 0), 28u) << "argsz = 20 + 2 * 4";
  EXPECT_EQ(read_at<std::uint32_t>(on, 4), 0x24u) << "DATA_EVENTFD | ACTION_TRIGGER";
  EXPECT_EQ(read_at<std::uint32_t>(on, 8), 2u) << "VFIO_PCI_MSIX_IRQ_INDEX";
  EXPECT_EQ(read_at<std::uint32_t>(on, 12), 0u) << "start";
  EXPECT_EQ(read_at<std::uint32_t>(on, 16), 2u) << "count";
  EXPECT_EQ(read_at<std::int32_t>(on, 20), raw[0]);
  EXPECT_EQ(read_at<std::int32_t>(on, 24), raw[1]);
  const auto& off = kernel.irq_sets[1];
  ASSERT_EQ(off.size(), 20u);
  EXPECT_EQ(read_at<std::uint32_t>(off, 4), 0x21u) << "DATA_NONE | ACTION_TRIGGER";
  EXPECT_EQ(read_at<std::uint32_t>(off, 8), 2u);
  EXPECT_EQ(read_at<std::uint32_t>(off, 16), 0u) << "count 0 = all vectors off";
}

TEST_F(KernelDeviceTest, MsiUsesIrqIndexOneAndIrqCountAsksGetIrqInfo) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  auto n = dev->irq_count(IrqKind::kMsi);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 1u);
  const auto& info = kernel.only(kGetIrqInfo).bytes;
  EXPECT_EQ(read_at<std::uint32_t>(info, 0), 16u) << "argsz";
  EXPECT_EQ(read_at<std::uint32_t>(info, 8), 1u) << "VFIO_PCI_MSI_IRQ_INDEX";
  auto fds = make_eventfds(1);
  const int raw[1] = {(*fds)[0].get()};
  LU_ASSERT_OK(dev->enable_msi(raw));
  EXPECT_EQ(read_at<std::uint32_t>(kernel.irq_sets[0], 8), 1u);
  EXPECT_TRUE(dev->irqs_enabled(IrqKind::kMsi));
}

TEST_F(KernelDeviceTest, FailedSetIrqsLeavesInterruptsMarkedAsTheyWere) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  kernel.fail_with[kSetIrqs] = EINVAL;
  auto fds = make_eventfds(1);
  const int raw[1] = {(*fds)[0].get()};
  auto st = dev->enable_msix(raw);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().op, "VFIO_DEVICE_SET_IRQS");
  EXPECT_FALSE(dev->interrupts_enabled());
}

TEST_F(KernelDeviceTest, ResetIssuesDeviceResetWithNoArgument) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  LU_ASSERT_OK(dev->reset());
  const auto& calls = kernel.gw.calls();
  ASSERT_EQ(calls.back().request, kDeviceReset);
  EXPECT_EQ(kernel.gw.raw_args.back(), 0u);
  EXPECT_EQ(calls.back().fd, dev->fd());
}

TEST_F(KernelDeviceTest, ReleasedFdIsTheDeviceFdAndTheObjectNoLongerOwnsIt) {
  auto dev = open(IommuMode::kIommufd);
  ASSERT_TRUE(dev);
  const int raw = dev->fd();
  VfioDeviceFd fd = dev->release_fd();
  EXPECT_EQ(fd.get(), raw);
  EXPECT_EQ(dev->fd(), -1);
  dev.reset();
  EXPECT_NE(::fcntl(raw, F_GETFD), -1) << "the released fd stays open after the device is destroyed";
}

TEST_F(KernelDeviceTest, DeviceNotBoundToVfioPciIsRefusedBeforeAnyIoctl) {
  FakeTree tree2;
  tree2.add({.driver = "nvme"});
  KernelOptions o = options;
  o.sysfs_root = tree2.sys();
  auto dev = open_device("0000:00:04.0", IommuMode::kIommufd, o);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kNotBound) << dev.error().message();
  EXPECT_NE(dev.error().hint.find("scripts/lu-test-bind-vfio 0000:00:04.0"), std::string::npos) << dev.error().message();
  EXPECT_TRUE(kernel.gw.calls().empty());
}

TEST_F(KernelDeviceTest, HostileBdfNeverReachesTheFilesystem) {
  auto dev = open_device("../../../../dev/sda", IommuMode::kIommufd, options);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kInvalidInput) << dev.error().message();
  EXPECT_TRUE(kernel.gw.calls().empty());
}

TEST_F(KernelDeviceTest, MissingDeviceNodeIsUnavailableWithTheNodePath) {
  std::filesystem::remove(tree.dev() + "/iommu");
  auto dev = open_device("0000:00:04.0", IommuMode::kIommufd, options);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().kind, ErrorKind::kUnavailable) << dev.error().message();
  EXPECT_NE(dev.error().op.find("/dev/iommu"), std::string::npos) << dev.error().message();
  EXPECT_EQ(dev.error().err, ENOENT);
}

}  // namespace
}  // namespace lu::vfio
