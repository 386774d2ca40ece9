// Test helper: memfd-backed memory mapped into a model's IOMMU view at a fixed IOVA, with the
// CPU's view of the same bytes.
#pragma once

#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "base/memfd.h"
#include "sim/pci/pci_model.h"

namespace lu::sim::pci::testing {

struct DmaMemory {
  MemFd mem;
  Mapping host;
  std::uint64_t iova = 0;
  std::uint64_t size = 0;

  // Call under ASSERT_NO_FATAL_FAILURE.
  void map(PciModel& model, std::uint64_t at, std::uint64_t bytes) {
    iova = at;
    size = bytes;
    auto m = create_sized_memfd("sim-pci-test", bytes);
    ASSERT_TRUE(m) << m.error().message();
    mem = std::move(*m);
    auto h = Mapping::map_shared(mem.get(), bytes, 0, true, "test");
    ASSERT_TRUE(h) << h.error().message();
    host = std::move(*h);
    auto st = model.map({.iova = at, .size = bytes, .memfd = mem.get(), .offset = 0});
    ASSERT_TRUE(st) << st.error().message();
  }
  std::uint8_t* at(std::uint64_t offset) { return host.data() + offset; }
  template <class T>
  T read(std::uint64_t offset) {
    T v;
    std::memcpy(&v, at(offset), sizeof v);
    return v;
  }
  template <class T>
  void write(std::uint64_t offset, const T& v) { std::memcpy(at(offset), &v, sizeof v); }
};

// Sets memory decoding and bus mastering through config space, as a driver does.
inline void set_bus_master(PciModel& model, bool on) {
  std::uint8_t cmd[2];
  ASSERT_TRUE(model.config_read(4, cmd));
  cmd[0] = static_cast<std::uint8_t>(on ? (cmd[0] | 0x06) : (cmd[0] & ~0x04));
  ASSERT_TRUE(model.config_write(4, cmd));
}

}  // namespace lu::sim::pci::testing
