#pragma once
// Small helpers for driving external programs (gnuplot, chromium) through the shell.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace preimage::report {

namespace fs = std::filesystem;

// The full path of `program` (a bare name looked up in $PATH, or a path), if it is an executable
// file; std::nullopt otherwise. Lets callers say "X not found: install Y" before running anything.
std::optional<fs::path> find_program(const std::string& program);

// `text` quoted for /bin/sh ('...' with embedded quotes escaped), for paths in popen() commands.
std::string shell_quote(std::string_view text);

// A fresh, empty folder under the system's temporary folder, removed (with its contents) when the
// object is destroyed. `prefix` names it, for whoever finds one left by a crash.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// While alive, a write to a closed pipe returns EPIPE instead of killing the process with
// SIGPIPE (the signal is blocked in this thread and any SIGPIPE it raised is discarded on exit).
// Needed because gnuplot exits at the first error while we may still be writing its script.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  bool was_pending_ = false;
  bool was_blocked_ = false;
};

// Decodes the status returned by pclose()/system(): "exit status 1", "killed by signal 9", ...
std::string describe_exit_status(int status);
// True when `status` (from pclose) means a normal exit with code 0.
bool exited_successfully(int status);

// True when the file at `path` starts with the 8-byte PNG signature.
bool has_png_signature(const fs::path& path);

}  // namespace preimage::report
