// preimage complete: a rectangle of known pixels, a mask file, and bad masks.
#include <filesystem>

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"
#include "report/image_grid.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

TEST(Complete, KeepsTheKnownPixelsAndFillsTheRest) {
  const auto run = test_support::fixture_inverted();
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
  // The inversion improves the fit on the known pixels: no image ends worse than the encoder's
  // start (of the masked image), and on average it ends better.
  auto start_loss = data::read_npy_tensor(out / "start_loss.npy");
  auto final_loss = data::read_npy_tensor(out / "final_loss.npy");
  EXPECT_TRUE((final_loss <= start_loss + 1e-6).all().item<bool>())
      << start_loss << final_loss;
  EXPECT_LT(final_loss.mean().item<double>(), 0.99 * start_loss.mean().item<double>());
  // The decoding at the solution gives that loss on the known pixels.
  auto original = data::read_npy_tensor(out / "completed.npy") * mask;  // known pixels only
  auto residual = ((decoded - original) * mask).square().sum(1);
  EXPECT_TRUE(torch::allclose(residual, final_loss, 1e-3, 1e-3)) << residual << final_loss;

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
  const auto run = test_support::fixture_inverted();
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

TEST(Complete, APngMaskAndTheFixedPointMethod) {
  const auto run = test_support::fixture_inverted();
  const auto dir = test_support::fresh_dir("run_cli_complete_png");
  // The left half known: white (255) where known, black elsewhere, 28 x 28.
  report::Raster mask{28, 28, std::vector<uint8_t>(28 * 28, 0)};
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 14; ++c) mask.pixels[static_cast<size_t>(r * 28 + c)] = 255;
  report::write_png(dir / "left.png", mask);
  auto r = run_cli("complete " + run.string() + " --mask " + (dir / "left.png").string() +
                   " --images 4 --method fixed-point --quiet --out " + (dir / "out").string());
  ASSERT_EQ(r.status, 0) << r.output;
  auto stored = data::read_npy_tensor(dir / "out" / "mask.npy");
  EXPECT_EQ(stored.sum().item<float>(), 14 * 28);
  EXPECT_EQ(stored[5][3].item<float>(), 1.0f);
  EXPECT_EQ(stored[5][20].item<float>(), 0.0f);
  auto latents = data::read_npy_tensor(dir / "out" / "latents.npy");
  EXPECT_TRUE(torch::isfinite(latents).all().item<bool>());
  auto start_loss = data::read_npy_tensor(dir / "out" / "start_loss.npy");
  auto final_loss = data::read_npy_tensor(dir / "out" / "final_loss.npy");
  EXPECT_TRUE((final_loss <= start_loss + 1e-6).all().item<bool>());  // its safeguard
}
