// Everything the post stage needs from the pre stage, as cereal-serializable records.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>


namespace lu::state {

// Bump when a record changes shape; the envelope refuses other versions.
inline constexpr std::uint32_t kSchemaVersion = 2;  // 2: typed scenario records
inline constexpr char kStateSessionName[] = "lu-test.state";
inline constexpr std::uint64_t kStateToken = 1;

struct FileRecord {
  std::uint64_t token = 0;
  std::string kind;   // "memfd", "vfio-device"
  std::string label;  // what the scenario calls it
  std::uint64_t size = 0;
  std::uint64_t digest = 0;
  template <class A>
  void serialize(A& a) { a(token, kind, label, size, digest); }
};

struct SessionRecord {
  std::string name;
  std::string scenario;
  std::vector<FileRecord> files;
  template <class A>
  void serialize(A& a) { a(name, scenario, files); }
};

// The DMA job a device ran across the kexec: a memcpy repeated `copies` times.
struct DmaJobRecord {
  std::uint64_t src_iova = 0, dst_iova = 0;
  std::uint64_t copy_size = 0, copies = 0;
  std::uint64_t progress_before = 0;  // copies done when the pre stage sampled
  std::int64_t sampled_ns = 0;        // CLOCK_REALTIME of that sample
  template <class A>
  void serialize(A& a) { a(src_iova, dst_iova, copy_size, copies, progress_before, sampled_ns); }
};

// One device of the device scenario: what the post stage compares against.
struct DeviceRecord {
  std::string bdf;
  std::string driver;             // DMA driver name (simdma, edu, igb, dsa, ioat)
  std::string session;            // the LUO session holding the chain, empty when not preserved
  bool cdev = false;              // opened as a cdev (only cdev fds are preservable)
  bool preserved = false;         // PRESERVE_FD of the device fd succeeded
  std::string not_preservable;    // why not, when it did not
  bool bus_master_before = false;
  std::vector<std::uint8_t> config_before;  // config space snapshot, interrupts already off
  std::uint64_t iova = 0;         // where the DMA memfd is mapped
  std::uint64_t dma_size = 0;     // bytes of the copy region (the memfd holds source, destination, driver region)
  std::uint64_t region_size = 0;  // the driver region at its end
  std::uint64_t memfd_token = 0, device_token = 0;
  std::uint64_t iommufd_token = 0, hwpt_token = 0;  // the IOMMUFD chain, 0 when not preserved that way
  std::string chain;              // the uAPI revision the chain followed, empty without one
  DmaJobRecord job;
  template <class A>
  void serialize(A& a) {
    a(bdf, driver, session, cdev, preserved, not_preservable, bus_master_before, config_before, iova, dma_size,
      region_size, memfd_token, device_token, iommufd_token, hwpt_token, chain, job);
  }
};

struct RunState {
  std::string run_id;
  std::uint32_t iteration = 0;
  std::string nonce;
  std::string backend;  // "kernel" | "sim"
  std::string profile;            // the expectation profile judged against
  std::string profile_requested;  // what --profile said ("auto" or a name): XFAIL only when explicit
  std::string kernel_release_before;
  std::string boot_id_before;
  std::string armed_cmdline;
  std::string armed_kernel;
  std::int64_t pre_started_ns = 0;   // CLOCK_REALTIME: the only clock that crosses a kexec
  std::int64_t pre_finished_ns = 0;
  std::int64_t kexec_requested_ns = 0;
  std::vector<std::string> planned_checks;  // KTAP plan, numbered in order from 1
  std::string hostname;
  std::vector<SessionRecord> sessions;      // every session preserved, state session excluded
  std::vector<std::string> previous_sessions;  // last iteration's names: must be gone now
  std::vector<DeviceRecord> devices;         // the device scenario, one per --device
  // Set when this iteration belongs to a loop (`lu-test loop start`).
  std::string loop_id;
  std::uint32_t loop_index = 0;     // 1-based iteration inside the loop
  std::string expected_release;     // the release the armed kernel must boot, empty: not checked

  template <class A>
  void serialize(A& a) {
    a(run_id, iteration, nonce, backend, profile, profile_requested, kernel_release_before, boot_id_before, armed_cmdline,
      armed_kernel, pre_started_ns, pre_finished_ns, kexec_requested_ns, planned_checks, hostname,
      sessions, previous_sessions, devices, loop_id, loop_index, expected_release);
  }
};

}  // namespace lu::state
