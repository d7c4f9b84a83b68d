// preimage complete: a rectangle of known pixels, a mask file, and bad masks.
#include <filesystem>

#include <gtest/gtest.h>

#include "data/tensor_io.h"
#include "tiny_run.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

TEST(Complete, KeepsTheKnownPixelsAndFillsTheRest) {
  const auto& run = test_support::tiny_run();
  const auto out = test_support::fresh_dir("run_cli_complete") / "top";
  auto r = run_cli("complete " + run.string() + " --rect 0:14,0:28 --images 6 --quiet --out " +
                   out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string f : {"completed.png", "completed.npy", "decoded.npy", "latents.npy",
                              "mask.npy", "completion.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  auto completed = data::read_npy_tensor(out / "completed.npy");
  auto decoded = data::read_npy_tensor(out / "decoded.npy");
  ASSERT_EQ(completed.sizes(), (std::vector<int64_t>{6, 784}));
  auto mask = data::read_npy_tensor(out / "mask.npy").view({-1});
  EXPECT_EQ(mask.sum().item<float>(), 14 * 28);
  // Missing pixels come from the decoder; known pixels are binary MNIST values, kept.
  auto missing = mask.eq(0);
  EXPECT_TRUE(torch::equal(completed.index({torch::indexing::Slice(), missing}),
                           decoded.index({torch::indexing::Slice(), missing})));
  auto known = completed.index({torch::indexing::Slice(), mask.eq(1)});
  EXPECT_TRUE((known.eq(0).logical_or(known.eq(1))).all().item<bool>());

  // The same mask as a .npy file, given as the missing part.
  data::write_npy_tensor(out.parent_path() / "bottom.npy", 1 - mask.view({28, 28}));
  auto r2 = run_cli("complete " + run.string() + " --mask " +
                    (out.parent_path() / "bottom.npy").string() +
                    " --missing --images 6 --method gauss-newton --quiet --out " +
                    (out.parent_path() / "npy").string());
  ASSERT_EQ(r2.status, 0) << r2.output;
  EXPECT_TRUE(torch::equal(data::read_npy_tensor(out.parent_path() / "npy" / "mask.npy"),
                           mask.view({28, 28})));
}

TEST(Complete, BadMasksFailBeforeAnyWork) {
  const auto& run = test_support::tiny_run();
  const auto out = test_support::fresh_dir("run_cli_complete_bad") / "x";
  for (const auto& [args, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"--rect 14:0,0:28", "empty or inverted"},
           {"--rect 0:30,0:28", "outside"},
           {"--rect top", "cannot read rectangle"},
           {"--mask /nonexistent.png", "does not exist"},
           {"", "exactly one mask"},
           {"--rect 0:28,0:28 --missing", "keeps no pixel"}}) {
    auto r = run_cli("complete " + run.string() + " " + args + " --out " + out.string());
    EXPECT_NE(r.status, 0) << args << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, message)) << args << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(out));
}
