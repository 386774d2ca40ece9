// While alive, SIGTERM, SIGINT and SIGHUP do not kill the process: a watcher thread runs
// `on_stop(signal)` instead, so a post stage that systemd times out (TimeoutStartSec=) still
// closes its record with ERROR lines that say why. The callback must end the process.
#pragma once

#include <functional>
#include <thread>

#include "base/fd.h"

namespace lu::stages {

class StopSignals {
 public:
  explicit StopSignals(std::function<void(int signal)> on_stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  UniqueFd signals_;  // signalfd
  UniqueFd wake_;     // eventfd: the destructor ends the watcher
  std::thread watcher_;
  bool active_ = false;
};

}  // namespace lu::stages
