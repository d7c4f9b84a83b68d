#pragma once
// One tiny trained run shared by the tests of this binary (trained on first use, a few seconds).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "../test_helpers.h"
#include "cli_runner.h"

namespace preimage::test_support {

// A run folder with a narrow VAE (1 epoch on 512 images), 120 images encoded and inverted with
// gauss-newton.
inline const std::filesystem::path& tiny_run() {
  static const std::filesystem::path dir = [] {
    auto d = fresh_dir("run_cli_tiny") / "run";
    auto r = run_cli("run --out " + d.string() + " --data-dir " + PREIMAGE_DATA_DIR +
                     " --train-images 512 --eval-images none --images 120 --epochs 1"
                     " --hidden-width 48 --batch-size 64 --method gauss-newton --no-report --quiet");
    EXPECT_EQ(r.status, 0) << r.output;
    return d;
  }();
  return dir;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace preimage::test_support
