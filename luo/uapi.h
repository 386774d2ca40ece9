// The LUO uAPI (include/uapi/linux/liveupdate.h), restated so lu-test builds on hosts whose
// headers predate it. Layouts are pinned below; the unit tests check them byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lu::luo::uapi {

inline constexpr char kDevicePath[] = "/dev/liveupdate";
inline constexpr std::size_t kNameSize = 64;  // u8[64], NUL-terminated: 63 usable characters
inline constexpr std::size_t kMaxNameLength = kNameSize - 1;

// _IO(0xBA, nr): no size or direction bits, so the request is simply 0xBA00 | nr.
inline constexpr unsigned long kIoctlType = 0xBA;
constexpr unsigned long io(unsigned nr) { return (kIoctlType << 8) | nr; }

inline constexpr unsigned long kCreateSession = io(0x00);
inline constexpr unsigned long kRetrieveSession = io(0x01);
inline constexpr unsigned long kSessionPreserveFd = io(0x40);
inline constexpr unsigned long kSessionRetrieveFd = io(0x41);
inline constexpr unsigned long kSessionFinish = io(0x42);
inline constexpr unsigned long kSessionGetName = io(0x43);  // 7.2+; 6.19 answers EINVAL

struct CreateSession {
  std::uint32_t size;
  std::int32_t fd;  // out
  std::uint8_t name[kNameSize];
};
struct RetrieveSession {
  std::uint32_t size;
  std::int32_t fd;  // out
  std::uint8_t name[kNameSize];
};
struct SessionPreserveFd {
  std::uint32_t size;
  std::int32_t fd;
  alignas(8) std::uint64_t token;
};
struct SessionRetrieveFd {
  std::uint32_t size;
  std::int32_t fd;  // out
  alignas(8) std::uint64_t token;
};
struct SessionFinish {
  std::uint32_t size;
  std::uint32_t reserved;  // must be 0
};
struct SessionGetName {
  std::uint32_t size;
  std::uint32_t reserved;
  std::uint8_t name[kNameSize];  // out
};

static_assert(sizeof(CreateSession) == 72 && offsetof(CreateSession, name) == 8);
static_assert(sizeof(RetrieveSession) == 72 && offsetof(RetrieveSession, name) == 8);
static_assert(sizeof(SessionPreserveFd) == 16 && offsetof(SessionPreserveFd, token) == 8);
static_assert(sizeof(SessionRetrieveFd) == 16 && offsetof(SessionRetrieveFd, token) == 8);
static_assert(sizeof(SessionFinish) == 8);
static_assert(sizeof(SessionGetName) == 72 && offsetof(SessionGetName, name) == 8);

// Name for the error messages, derived from the request so it is never retyped.
const char* request_name(unsigned long request);

}  // namespace lu::luo::uapi
