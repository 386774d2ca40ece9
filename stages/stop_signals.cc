#include "stages/stop_signals.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>

namespace lu::stages {
namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

StopSignals::StopSignals(std::function<void(int)> on_stop) {
  sigset_t set = stop_set();
  // Blocked before the thread exists, so every thread (this one included) inherits the mask
  // and only the signalfd sees them.
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;
  signals_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC));
  wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!signals_ || !wake_) {
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return;
  }
  active_ = true;
  watcher_ = std::thread([this, on_stop = std::move(on_stop)] {
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      signalfd_siginfo info{};
      if (fds[0].revents && ::read(signals_.get(), &info, sizeof info) == sizeof info) {
        on_stop(static_cast<int>(info.ssi_signo));
        return;
      }
    }
  });
}

StopSignals::~StopSignals() {
  if (!active_) return;
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  watcher_.join();
  sigset_t set = stop_set();
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace lu::stages
