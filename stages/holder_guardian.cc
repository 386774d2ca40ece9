#include "stages/holder_guardian.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

#include "base/clock.h"
#include "base/files.h"

namespace lu::stages {
namespace {

constexpr char kReleased = 'k';

std::string utc_now() {
  time_t t = ::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

[[noreturn]] void guard(const HolderSpec& spec, const std::string& boot_id, int pipe_fd, pid_t holder) {
  char word = 0;
  ssize_t n;
  do {
    n = ::read(pipe_fd, &word, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && word == kReleased) ::_exit(0);
  // The holder is gone without a word: the sessions it held are unpreserved now.
  auto machine = spec.machine->reconnect();
  if (!machine) ::_exit(0);  // the machine itself is gone (a stopped simulator): nothing to unload
  auto facts = (*machine)->boot_facts();
  if (!facts || facts->boot_id != boot_id) ::_exit(0);  // a kexec happened: not ours to touch
  auto unloaded = (*machine)->kexec().unload();
  std::string note = "the holder (pid " + std::to_string(holder) + ") of run " + spec.run_id + " iteration " +
                     std::to_string(spec.iteration) + " died at " + utc_now() +
                     " before any kexec: the sessions it held are lost. " +
                     (unloaded ? "The armed kernel was unloaded, so a bare `kexec -e` cannot lose them silently. "
                               : "Unloading the armed kernel failed (" + unloaded.error().message() + "). ") +
                     "`lu-test cancel` records the run as cancelled; `lu-test stage pre` arms a new one";
  (void)write_file_atomic(spec.death_note, {note.begin(), note.end()});
  ::_exit(0);
}

}  // namespace

void close_all_except(const std::set<int>& keep) {
  std::vector<int> fds;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      int fd = std::atoi(e->d_name);
      if (fd != ::dirfd(d) && !keep.count(fd)) fds.push_back(fd);
    }
    ::closedir(d);
  }
  for (int fd : fds) ::close(fd);
}

Result<UniqueFd> start_guardian(const HolderSpec& spec, const std::string& boot_id) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail(ErrorKind::kSystem, "pipe2", "holder guardian", "", errno);
  UniqueFd read_end(p[0]), write_end(p[1]);
  pid_t holder = ::getpid();
  pid_t child = ::fork();
  if (child < 0) return fail(ErrorKind::kSystem, "fork", "holder guardian", "check the process limit", errno);
  if (child == 0) {
    // Only the pipe and the log: the guardian must never keep a session alive.
    close_all_except({read_end.get(), 1, 2});
    ::signal(SIGHUP, SIG_IGN);
    guard(spec, boot_id, read_end.get(), holder);
  }
  return write_end;
}

void release_guardian(int pipe_fd) {
  char word = kReleased;
  (void)!::write(pipe_fd, &word, 1);
}

}  // namespace lu::stages
