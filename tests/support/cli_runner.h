#pragma once
// Runs the built `preimage` executable and captures its exit status and output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace preimage::test_support {

struct CliResult {
  int status = -1;     // exit status
  std::string output;  // stdout and stderr together
};

// `shell_prefix` runs first in the same shell, e.g. "ulimit -v 3000000;".
inline CliResult run_cli(const std::string& args, const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + std::string(PREIMAGE_CLI) + " " + args + " 2>&1";
  CliResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return r;
}

// The command failed (non-zero exit) with a message containing `must_contain`.
inline void expect_failure(const CliResult& r, const std::string& must_contain) {
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(must_contain), std::string::npos)
      << "expected '" << must_contain << "' in:\n" << r.output;
}

// A tiny but real configuration: real MNIST images, a narrow VAE, one short epoch (the flags of
// the CTest fixture's run, tests/support/make_fixture_runs.sh).
inline std::string tiny_run_flags() {
  return std::string("--data-dir ") + PREIMAGE_DATA_DIR +
         " --train-images 6000 --eval-images 200 --images 200 --epochs 2 --hidden-width 64"
         " --batch-size 64 --quiet";
}

}  // namespace preimage::test_support
