#pragma once
// The `preimage` executable as a child process the test can wait for or kill (run_cli waits).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace preimage::test_support {

class ChildProcess {
 public:
  // Starts `PREIMAGE args` (through /bin/sh, `exec`ed: the child is preimage itself), its stdout
  // and stderr into `log`. `prefix` runs in the shell first (e.g. "ulimit -f 64;").
  // `launcher` (e.g. "mpirun -np 3") starts preimage: the child is the launcher, the preimage
  // processes its children (kill_children).
  ChildProcess(const std::string& args, const std::filesystem::path& log,
               const std::string& prefix = "", const std::string& launcher = "")
      : log_(log) {
    const std::string command = prefix + " exec " + launcher + " " + PREIMAGE_CLI + " " + args +
                                " > '" + log.string() + "' 2>&1";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (running()) {
      kill_children();
      kill();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (status_ >= 0 || pid_ <= 0) return false;
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) status_ = decode(raw);
    return status_ < 0;
  }
  // Waits for the end: the exit status, or 128 + the signal that ended it.
  int wait() {
    if (status_ < 0 && pid_ > 0) {
      int raw = 0;
      ::waitpid(pid_, &raw, 0);
      status_ = decode(raw);
    }
    return status_;
  }
  // SIGKILL (if it still runs), then waits.
  int kill() {
    if (status_ < 0 && pid_ > 0) ::kill(pid_, SIGKILL);
    return wait();
  }
  // SIGKILL to the child's own children (a launcher's processes); the child itself runs on.
  void kill_children() {
    if (pid_ > 0 && status_ < 0)
      (void)std::system(("pkill -KILL -P " + std::to_string(pid_) + " 2>/dev/null").c_str());
  }
  const std::filesystem::path& log() const { return log_; }

 private:
  static int decode(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_;
};

// Polls `ready` every millisecond until it holds or `child` ends or `seconds` pass; true if it
// held.
template <typename F>
bool wait_until(ChildProcess& child, F ready, double seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    if (!child.running()) return ready();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// The chunks (blocks) recorded so far in a step's records folder (RUN/partial/<name>/):
// the chunk_<k>.json markers, each written last.
inline int64_t chunks_recorded(const std::filesystem::path& records) {
  int64_t done = 0;
  std::error_code ec;
  if (std::filesystem::exists(records, ec))
    for (const auto& e : std::filesystem::directory_iterator(records, ec))
      done += e.path().extension() == ".json" &&
              e.path().filename().string().rfind("chunk_", 0) == 0;
  return done;
}

}  // namespace preimage::test_support
