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
// gauss-newton (train, encode, invert: the steps `run` chains).
inline const std::filesystem::path& tiny_run() {
  static const std::filesystem::path dir = [] {
    auto d = fresh_dir("run_cli_tiny") / "run";
    const std::string data = std::string(" --data-dir ") + PREIMAGE_DATA_DIR;
    for (const auto& args :
         {"train --out " + d.string() + data +
              " --train-images 512 --eval-images none --epochs 1 --hidden-width 48"
              " --batch-size 64 --quiet",
          "encode " + d.string() + data + " --images 120 --quiet",
          "invert " + d.string() + " --method gauss-newton --quiet"}) {
      auto r = run_cli(args);
      EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
    }
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
