// The holder: a detached process that keeps every session fd (and the fds DMA depends on)
// alive until the kexec syscall, answers `lu-test status`, performs `lu-test kexec` itself so
// the fds are certainly alive at the syscall, and releases everything on `lu-test cancel`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "machine/machine.h"

namespace lu::stages {

struct HeldFd {
  int fd;
  std::string label;  // "session lut.ab12cd34.1.memfd.0", "memory dma", ...
};

struct HolderSpec {
  std::string socket_path;
  std::string log_path;
  std::string run_id, nonce, backend;
  std::uint32_t iteration = 0;
  // The holder reconnects to this machine after its fork (Machine::reconnect).
  const Machine* machine = nullptr;
  // Written (CLOCK_REALTIME ns, fsync'ed) right before the kexec syscall: the blackout's start.
  std::string kexec_note;
  // Written by the holder's guardian when the holder dies without a kexec: what happened, and
  // that the armed kernel was unloaded (a bare `kexec -e` would otherwise lose every session).
  std::string death_note;
};

// Forks the holder (double fork, setsid), hands it `held`, waits until it listens.
// The caller closes its own copies afterwards; the holder's copies keep everything preserved.
Result<int> launch_holder(const HolderSpec& spec, const std::vector<HeldFd>& held);

struct HolderStatus {
  int pid = 0;
  std::string run_id, nonce, backend;
  std::uint32_t iteration = 0;
  std::int64_t since_ns = 0;
  std::vector<std::string> held;
};

// kNotFound when no holder listens at socket_path.
Result<HolderStatus> holder_status(const std::string& socket_path);
// The guardian's note when the holder of the armed run died before any kexec, else empty.
std::string holder_death_note(const std::string& death_note_path);
// Asks the holder to perform the kexec. kRefused (with the kernel's errno) when the kernel said
// no; the holder then stays alive with everything still held.
Status holder_kexec(const std::string& socket_path);
Status holder_cancel(const std::string& socket_path);
// Fault injection on a real machine: the holder flips one byte in the middle of the first
// preserved memfd it keeps a copy of; memfd.content must then fail. Returns what it damaged.
Result<std::string> holder_flip_memfd_byte(const std::string& socket_path);

}  // namespace lu::stages
