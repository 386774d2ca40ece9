#include <utility>  // before Asio: some Boost versions use std::exchange without it

#include "sim/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cerrno>
#include <chrono>
#include <algorithm>
#include <map>
#include <mutex>
#include <memory>

#include "base/seqpacket.h"
#include "base/rpc.h"
#include "sim/pci/sim_dma_device.h"

namespace lu::sim {
using rpc::Request;
using rpc::Reply;
using rpc::decode_request;
using rpc::encode_reply;
namespace {

namespace asio = boost::asio;

struct Connection {
  enum class Kind { kControl, kSession, kDevice };
  Connection(asio::io_context& io, int fd, Kind k) : stream(io, fd), kind(k) {}
  asio::posix::stream_descriptor stream;
  Kind kind;
  SessionId session = 0;
  std::string bdf;  // kDevice
  bool closed = false;
};
using ConnectionPtr = std::shared_ptr<Connection>;

std::string memfd_link(int fd) {
  char path[64], target[256];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return {};
  return std::string(target, static_cast<std::size_t>(n));
}

// One simulated PCI device: the hardware model plus what the kernel keeps about it.
struct DeviceSlot {
  std::mutex mu;                    // eventfds: the engine thread raises MSIs
  std::vector<UniqueFd> eventfds;   // MSI-X vector -> the client's eventfd
  bool bound = false;               // mapped DMA memory since this boot (LUO's FINISH waits for it)
  std::unique_ptr<pci::SimDmaDevice> dev;  // last: its engine thread stops before the rest goes
};

class Server {
 public:
  explicit Server(const ServerOptions& options)
      : options_(options), machine_(options.profile), idle_timer_(io_) {
    for (Fault f : options.faults) machine_.add_fault(f);
    for (auto& bdf : options.devices) {
      auto slot = std::make_unique<DeviceSlot>();
      slot->dev = std::make_unique<pci::SimDmaDevice>(pci::SimDmaOptions{bdf, 0});
      DeviceSlot* raw = slot.get();
      slot->dev->set_msi_sink([raw](unsigned vector) {
        std::lock_guard lock(raw->mu);
        if (vector < raw->eventfds.size()) {
          std::uint64_t one = 1;
          (void)!::write(raw->eventfds[vector].get(), &one, sizeof one);
        }
      });
      devices_.emplace(bdf, std::move(slot));
    }
  }

  Status run(int ready_fd) {
    auto listener = LU_TRY(listen_seqpacket(options_.socket_path));
    listener_ = std::make_unique<asio::posix::stream_descriptor>(io_, listener.release());
    accept_next();
    arm_idle_timer();
    if (ready_fd >= 0) {
      char ok = 1;
      (void)!::write(ready_fd, &ok, 1);
      ::close(ready_fd);
    }
    io_.run();
    // After a shutdown the path may already belong to a successor simulator: leave it alone.
    if (!name_released_) ::unlink(options_.socket_path.c_str());
    return {};
  }

 private:
  void arm_idle_timer() {
    idle_timer_.expires_after(std::chrono::seconds(options_.idle_exit_seconds));
    idle_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
  }

  void accept_next() {
    listener_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;
      int fd = ::accept4(listener_->native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) watch(add(fd, Connection::Kind::kControl));
      accept_next();
    });
  }

  ConnectionPtr add(int fd, Connection::Kind kind) {
    auto c = std::make_shared<Connection>(io_, fd, kind);
    connections_.emplace(fd, c);
    return c;
  }

  void watch(const ConnectionPtr& c) {
    c->stream.async_wait(asio::posix::stream_descriptor::wait_read, [this, c](const boost::system::error_code& ec) {
      if (ec || c->closed) return;
      arm_idle_timer();
      auto message = receive_message(c->stream.native_handle());
      if (!message) {
        drop(c);
        return;
      }
      auto request = decode_request(message->bytes);
      Reply reply;
      std::vector<UniqueFd> out_fds;
      if (!request) {
        reply.err = EPROTO;
        reply.detail = request.error().message();
      } else {
        dispatch(c, *request, message->fds, reply, out_fds);
      }
      if (c->closed) return;  // the machine kexec'd under this connection: no reply, as in reality
      std::vector<int> raw;
      for (auto& fd : out_fds) raw.push_back(fd.get());
      if (!send_message(c->stream.native_handle(), encode_reply(reply), raw)) {
        drop(c);
        return;
      }
      watch(c);
    });
  }

  void drop(const ConnectionPtr& c) {
    if (c->closed) return;
    c->closed = true;
    if (c->kind == Connection::Kind::kSession) machine_.luo().close_session(c->session);
    if (luo_owner_ == c.get()) luo_owner_ = nullptr;
    int fd = c->stream.native_handle();
    boost::system::error_code ignored;
    c->stream.cancel(ignored);
    c->stream.close(ignored);
    connections_.erase(fd);
  }

  // Sessions whose every client fd is closed are unpreserved now, not when the loop gets to them:
  // the kexec must see exactly what a kernel would.
  void reap_closed_sessions() {
    std::vector<ConnectionPtr> gone;
    for (auto& [fd, c] : connections_)
      if (c->kind == Connection::Kind::kSession && is_peer_closed(fd)) gone.push_back(c);
    for (auto& c : gone) drop(c);
  }

  FileIdentity classify(int fd) {
    FileIdentity id;
    struct stat st {};
    if (::fstat(fd, &st) == 0) id.inode = static_cast<std::uint64_t>(st.st_ino);
    if (memfd_link(fd).rfind("/memfd:", 0) == 0) id.kind = "memfd";
    // A device socket handed out by vfio_open or RETRIEVE_FD: the simulated VFIO cdev.
    if (auto it = device_inodes_.find(id.inode); it != device_inodes_.end()) {
      id.kind = "vfio-device";
      id.device = it->second;
      id.cdev = true;
    }
    return id;
  }

  // A new device fd: the client end of a socketpair whose server end speaks the device protocol.
  Result<UniqueFd> open_device_socket(const std::string& bdf) {
    if (!devices_.count(bdf)) return fail(ErrorKind::kNotFound, "open device", bdf, "no such device", ENODEV);
    auto pair = LU_TRY(seqpacket_pair());
    struct stat st {};
    if (::fstat(pair.second.get(), &st) == 0) device_inodes_[static_cast<std::uint64_t>(st.st_ino)] = bdf;
    auto conn = add(pair.first.release(), Connection::Kind::kDevice);
    conn->bdf = bdf;
    watch(conn);
    return UniqueFd(pair.second.release());
  }

  void device_request(const ConnectionPtr& c, const Request& r, std::vector<UniqueFd>& in_fds, Reply& reply) {
    auto& slot = *devices_.at(c->bdf);
    auto& dev = *slot.dev;
    auto num = [&](std::size_t i) { return i < r.nums.size() ? r.nums[i] : 0; };
    auto set_error = [&](const Error& e) {
      reply.err = e.err ? e.err : EINVAL;
      reply.detail = e.message();
    };
    Status st;
    if (r.op == "config_read") {
      std::vector<std::uint8_t> out(num(1));
      st = dev.config_read(static_cast<std::uint32_t>(num(0)), out);
      if (st) reply.bytes = std::move(out);
    } else if (r.op == "config_write") {
      st = dev.config_write(static_cast<std::uint32_t>(num(0)), r.bytes);
    } else if (r.op == "bar_read") {
      if (num(0) != 0) return void(reply.err = EINVAL);
      auto v = dev.bar0_read(num(1), static_cast<unsigned>(num(2)));
      if (v) reply.nums = {*v};
      else st = fail(v.error());
    } else if (r.op == "bar_write") {
      if (num(0) != 0) return void(reply.err = EINVAL);
      st = dev.bar0_write(num(1), static_cast<unsigned>(num(2)), num(3));
    } else if (r.op == "iova_ranges") {
      reply.nums = {0, (1ull << 48) - 1};  // a 48-bit IOMMU with nothing reserved
    } else if (r.op == "dma_map") {
      if (in_fds.empty()) return void(reply.err = EBADF);
      // The model mmaps the memfd itself (MAP_SHARED) and keeps that mapping.
      st = dev.map({.iova = num(0), .size = num(2), .memfd = in_fds[0].get(), .offset = num(1)});
      // Mapping DMA memory is what "bound" means here (the simulated kernel's FINISH rule). An
      // existing window at that IOVA (kept across the kexec) counts too.
      if (st || st.error().kind == ErrorKind::kBusy) slot.bound = true;
    } else if (r.op == "dma_unmap") {
      st = dev.unmap(num(0), num(1));
    } else if (r.op == "irq_enable") {
      st = dev.enable_msix(static_cast<unsigned>(num(0)));
      if (st) {
        std::lock_guard lock(slot.mu);
        slot.eventfds = std::move(in_fds);
      }
    } else if (r.op == "irq_disable") {
      dev.disable_msix();
      std::lock_guard lock(slot.mu);
      slot.eventfds.clear();
    } else if (r.op == "reset") {
      dev.reset();
    } else {
      reply.err = ENOTTY;
      reply.detail = "unknown device request " + r.op;
    }
    if (!st) set_error(st.error());
  }

  void dispatch(const ConnectionPtr& c, const Request& r, std::vector<UniqueFd>& in_fds, Reply& reply,
                std::vector<UniqueFd>& out_fds) {
    auto set_error = [&](const Error& e) {
      reply.err = e.err ? e.err : EINVAL;
      reply.detail = e.message();
    };
    auto str = [&](std::size_t i) { return i < r.strs.size() ? r.strs[i] : std::string(); };
    auto num = [&](std::size_t i) { return i < r.nums.size() ? r.nums[i] : 0; };
    auto& luo = machine_.luo();

    if (c->kind == Connection::Kind::kDevice) return device_request(c, r, in_fds, reply);

    if (c->kind == Connection::Kind::kSession) {
      if (r.op == "preserve_fd") {
        if (in_fds.empty()) return void(reply.err = EBADF);
        auto identity = classify(in_fds[0].get());
        // A memfd-only kernel has no LUO file handler for VFIO devices: ENOENT.
        if (identity.kind == "vfio-device" && machine_.profile() == KernelProfile::kMemfd) identity.kind.clear();
        if (auto st = luo.preserve_fd(c->session, std::move(in_fds[0]), identity, num(0)); !st) set_error(st.error());
      } else if (r.op == "retrieve_fd") {
        auto fd = luo.retrieve_fd(c->session, num(0),
                                  [this](const std::string& bdf) { return open_device_socket(bdf); });
        if (!fd) set_error(fd.error());
        else out_fds.push_back(std::move(*fd));
      } else if (r.op == "finish") {
        auto ready = [this](const std::string& bdf) {
          auto it = devices_.find(bdf);
          return it != devices_.end() && it->second->bound;
        };
        if (auto st = luo.finish(c->session, ready); !st) set_error(st.error());
      } else if (r.op == "get_name") {
        auto name = luo.name(c->session);
        if (!name) set_error(name.error());
        else reply.strs.push_back(*name);
      } else {
        reply.err = ENOTTY;
      }
      return;
    }

    if (r.op == "boot_facts") {
      reply.strs = {machine_.cmdline(), machine_.boot_id(), machine_.release(), kernel_profile_name(machine_.profile())};
      reply.nums = {machine_.boots()};
    } else if (r.op == "luo_open") {
      if (int e = luo.open_error()) reply.err = e;
      else if (luo_owner_ && luo_owner_ != c.get()) reply.err = EBUSY;
      else luo_owner_ = c.get();
    } else if (r.op == "create_session" || r.op == "retrieve_session") {
      if (luo_owner_ != c.get()) return void(reply.err = EBADF);
      auto id = r.op == "create_session" ? luo.create_session(str(0)) : luo.retrieve_session(str(0));
      if (!id) return set_error(id.error());
      auto pair = seqpacket_pair();
      if (!pair) return set_error(pair.error());
      auto session = add(pair->first.release(), Connection::Kind::kSession);
      session->session = *id;
      watch(session);
      out_fds.push_back(UniqueFd(pair->second.release()));
    } else if (r.op == "vfio_open") {
      if (!devices_.count(str(0))) {
        reply.err = ENODEV;
        reply.detail = "no PCI device " + str(0) + " on this machine";
        return;
      }
      if (luo.device_held_by_luo(str(0)) && !machine_.has_fault(Fault::kReopenAllowed)) {
        reply.err = EBUSY;
        reply.detail = "the device is preserved by LUO and not yet retrieved";
        return;
      }
      auto fd = open_device_socket(str(0));
      if (!fd) return set_error(fd.error());
      out_fds.push_back(std::move(*fd));
    } else if (r.op == "kexec_load") {
      machine_.arm({str(0), str(1), str(2)});
    } else if (r.op == "kexec_unload") {
      machine_.disarm();
    } else if (r.op == "kexec_loaded") {
      reply.nums = {machine_.armed() ? 1u : 0u};
    } else if (r.op == "register_holder") {
      holder_pid_ = peer_pid(c->stream.native_handle());
    } else if (r.op == "add_fault") {
      auto f = parse_fault(str(0));
      if (!f) return void(reply.err = EINVAL);
      machine_.add_fault(*f);
    } else if (r.op == "kexec") {
      kexec(reply);
    } else if (r.op == "shutdown") {
      // Give up the name before answering: once `sim stop` returns, a new simulator may start in
      // the same run directory without ever reaching this dying one.
      ::unlink(options_.socket_path.c_str());
      name_released_ = true;
      io_.stop();
    } else {
      reply.err = ENOTTY;
      reply.detail = "unknown request " + r.op;
    }
  }

  void kexec(Reply& reply) {
    if (machine_.has_fault(Fault::kHolderKilled) && holder_pid_ > 0) {
      ::kill(holder_pid_, SIGKILL);
      // The dead process's fds close asynchronously; give the kernel a moment to tear them down.
      for (int i = 0; i < 200; ++i) {
        bool any_open = false;
        for (auto& [fd, c] : connections_)
          if (c->kind == Connection::Kind::kSession && !is_peer_closed(fd)) any_open = true;
        if (!any_open) break;
        ::usleep(10000);
      }
    }
    reap_closed_sessions();
    if (int e = machine_.check_freeze()) {
      reply.err = e;
      reply.detail = e == EINVAL ? "no kernel is loaded" : "a preserved file refused to freeze";
      return;
    }
    auto outgoing = machine_.luo().outgoing_devices();
    for (auto& bdf : outgoing) {
      auto it = devices_.find(bdf);
      if (it != devices_.end() && it->second->dev->interrupts_enabled()) {
        reply.err = EBUSY;
        reply.detail = "preserved device " + bdf + " has interrupts enabled: disable them before the kexec";
        return;
      }
    }
    devices_across_kexec(outgoing);
    machine_.kexec();
    for (auto& [bdf, slot] : devices_)
      if (slot->dev->frozen()) slot->dev->unfreeze();  // the new kernel took the device over
    holder_pid_ = -1;
    luo_owner_ = nullptr;
    std::vector<ConnectionPtr> all;
    for (auto& [fd, c] : connections_) all.push_back(c);
    for (auto& c : all) {
      c->kind = Connection::Kind::kControl;  // the old kernel's sessions are gone with it
      drop(c);
    }
  }

  // What the kexec does to each device, per the emulated kernel profile:
  //   none, memfd, or a device LUO does not hold: reset (bus master off, DMA stopped) and its
  //     IOVA mappings dropped;
  //   vfio-base, preserved: reset at freeze (bus master off, DMA stopped); mappings kept;
  //   vfio-full, preserved: frozen before the handover and unfrozen after the boot: bus
  //     master, config space, mappings (of preserved memfds) and the running DMA survive.
  // Then the device faults, once.
  void devices_across_kexec(const std::vector<std::string>& outgoing) {
    auto profile = machine_.profile();
    bool firmware = machine_.has_fault(Fault::kFirmwareReboot);
    for (auto& [bdf, slot] : devices_) {
      auto& dev = *slot->dev;
      bool preserved = !firmware && std::find(outgoing.begin(), outgoing.end(), bdf) != outgoing.end() &&
                       (profile == KernelProfile::kVfioBase || profile == KernelProfile::kVfioFull);
      if (preserved && profile == KernelProfile::kVfioFull) {
        dev.freeze();
      } else {
        dev.reset();
        if (!preserved) dev.unmap_all();
      }
      if (machine_.has_fault(Fault::kBusMasterCleared)) dev.clear_bus_master();
      if (machine_.has_fault(Fault::kConfigByteChanged)) dev.corrupt_config_byte(0x2c);
      if (machine_.has_fault(Fault::kDmaStalled)) dev.stall_dma();
      if (machine_.has_fault(Fault::kDmaDataCorrupted)) dev.corrupt_destination(0);
      if (machine_.has_fault(Fault::kDeviceReset)) dev.reset_anyway();
      slot->bound = false;
      std::lock_guard lock(slot->mu);
      slot->eventfds.clear();
    }
    for (Fault f : {Fault::kBusMasterCleared, Fault::kConfigByteChanged, Fault::kDmaStalled, Fault::kDmaDataCorrupted,
                    Fault::kDeviceReset})
      machine_.clear_fault(f);
  }

  ServerOptions options_;
  asio::io_context io_;
  std::unique_ptr<asio::posix::stream_descriptor> listener_;
  std::map<int, ConnectionPtr> connections_;
  MachineModel machine_;
  std::map<std::string, std::unique_ptr<DeviceSlot>> devices_;
  std::map<std::uint64_t, std::string> device_inodes_;  // client ends of device sockets -> BDF
  Connection* luo_owner_ = nullptr;
  int holder_pid_ = -1;
  bool name_released_ = false;
  asio::steady_timer idle_timer_;
};

}  // namespace

Status serve(const ServerOptions& options, int ready_fd) {
  ::signal(SIGPIPE, SIG_IGN);
  Server server(options);
  return server.run(ready_fd);
}

}  // namespace lu::sim
