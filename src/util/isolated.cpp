#include "util/isolated.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/common_interface_defs.h>  // the hardening build (scripts/harden.sh)
#define PREIMAGE_UNDER_ASAN 1
#endif
#endif

namespace preimage::util {
namespace {

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"); 0 when unreadable.
uint64_t status_bytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) return std::strtoull(line.c_str() + key.size(), nullptr, 10) * 1024;
  return 0;
}

constexpr int kOverBudget = 120;  // the child's exit status when it used more than its budget

}  // namespace

void become_isolated_child(unsigned seconds) {
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM, SIGINT, SIGTERM})
    ::signal(sig, SIG_DFL);
#ifdef PREIMAGE_UNDER_ASAN
  __sanitizer_set_death_callback(nullptr);  // a fuzzer's: the child's death is the parent's error
#endif
  ::alarm(seconds);
}

std::string run_isolated(const std::function<int()>& work, const IsolatedLimits& limits) {
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t child = ::fork();
  if (child < 0) return fmt::format("could not start (fork: {})", std::strerror(errno));
  if (child == 0) {
    become_isolated_child(limits.seconds);
    const uint64_t inherited = status_bytes("VmRSS");
    int status = 1;
    try {
      status = work();
    } catch (...) {
      status = 2;
    }
    // VmHWM: the peak since the fork began sharing the parent's pages.
    if (status == 0 && limits.memory_bytes != 0 && status_bytes("VmHWM") > inherited + limits.memory_bytes)
      status = kOverBudget;
    ::_exit(status);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return "could not be waited for";
  if (WIFSIGNALED(status)) {
    if (WTERMSIG(status) == SIGALRM) return fmt::format("was still running after {} s", limits.seconds);
    return fmt::format("crashed (signal {}: {})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0) return "";
  if (code == kOverBudget)
    return fmt::format("used more than its memory budget of {:.1f} GB",
                       static_cast<double>(limits.memory_bytes) / 1e9);
  return fmt::format("failed (status {})", code);
}

}  // namespace preimage::util
