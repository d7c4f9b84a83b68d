// A run folder damaged or changed under the tool (issue: hostile input): a lost or corrupt
// manifest beside a trained model, a model replaced by one of another latent size, NaN written
// into a latent space, `encode` again without a choice of images. Each either works or fails
// with a message naming the file and what was expected.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {
std::string rerun(const fs::path& dir) {
  std::string flags = test_support::tiny_run_flags();
  flags = flags.substr(0, flags.find(" --quiet"));  // the log says whether it trains
  return "run --out " + dir.string() + " " + flags + " --no-analyze --no-report";
}
}  // namespace

TEST(CliRunFolder, AManifestLostOrCorruptBesideItsModelIsRebuiltWithoutTraining) {
  for (const std::string manifest : {"", "{\"broken", "[1, 2]", "{\"model\": 5}"}) {
    const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_manifest");
    const auto model_bytes = util::read_file(dir / "model.pt");
    fs::remove(dir / "manifest.json");
    if (!manifest.empty()) util::write_file_atomic(dir / "manifest.json", manifest);
    const auto r = run_cli(rerun(dir));
    ASSERT_EQ(r.status, 0) << "manifest '" << manifest << "':\n" << r.output;
    EXPECT_TRUE(contains(r.output, "reusing")) << r.output;
    EXPECT_FALSE(contains(r.output, "epoch:")) << "it trained again:\n" << r.output;
    EXPECT_EQ(util::read_file(dir / "model.pt"), model_bytes);
    if (manifest == "{\"broken" || manifest == "[1, 2]")
      EXPECT_TRUE(contains(r.output, "manifest.json' is not a run's manifest")) << r.output;
    // The rebuilt manifest serves the next commands.
    const auto invert = run_cli("invert " + dir.string() + " --method gauss-newton --quiet");
    EXPECT_EQ(invert.status, 0) << invert.output;
  }
}

TEST(CliRunFolder, AModelReplacedByOneOfAnotherLatentSizeIsNamed) {
  const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_replaced");
  const auto other = test_support::fresh_dir("cli_replaced_model");
  const auto trained = run_cli("train --out " + other.string() + " --data-dir " +
                               PREIMAGE_DATA_DIR + " --train-images 256 --eval-images none "
                               "--epochs 1 --hidden-width 16 --latent-dim 3 --quiet");
  ASSERT_EQ(trained.status, 0) << trained.output;
  fs::copy_file(other / "model.pt", dir / "model.pt", fs::copy_options::overwrite_existing);
  for (const std::string command : {"invert " + dir.string() + " --method lbfgs --quiet",
                                    "encode " + dir.string() + " --quiet"}) {
    const auto r = run_cli(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "model.pt' is not the model run")) << r.output;
    EXPECT_TRUE(contains(r.output, "\"latent_dim\":3")) << r.output;
    EXPECT_FALSE(contains(r.output, "mat1")) << r.output;
  }
}

TEST(CliRunFolder, NaNInALatentSpaceIsNamedWithItsRow) {
  const auto dir = test_support::copy_fixture(test_support::fixture_inverted(), "cli_nan");
  auto mt = data::read_npy_tensor(dir / "latents/MT.npy");
  mt[7][1] = std::nanf("");
  data::write_npy_tensor(dir / "latents/MT.npy", mt);
  for (const std::string command : {"analyze " + dir.string() + " --quiet",
                                    "invert " + dir.string() + " --method lbfgs --quiet"}) {
    const auto r = run_cli(command);
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "latents/MT.npy' holds NaN or infinity in 1 of its 120 rows "
                                   "(the first: row 7)"))
        << r.output;
  }
}

TEST(CliRunFolder, EncodeAgainWithoutAChoiceOfImagesKeepsTheRunsImages) {
  const auto dir = test_support::copy_fixture(test_support::fixture_inverted(), "cli_encode");
  const auto indices = util::read_file(dir / "indices.npy");
  const auto r = run_cli("encode " + dir.string() + " --data-dir " + PREIMAGE_DATA_DIR);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "encoding 120 images")) << r.output;
  EXPECT_EQ(util::read_file(dir / "indices.npy"), indices);
  // Other images, chosen: the methods found for the old ones are named.
  const auto other = run_cli("encode " + dir.string() + " --images 60");
  ASSERT_EQ(other.status, 0) << other.output;
  EXPECT_TRUE(contains(other.output, "the results of gauss-newton were found for the old ones"))
      << other.output;
}

// Training without a test set (--eval-images none) through analysis and report: the report
// says the test ELBO is missing instead of failing after the whole pipeline (json type_error).
TEST(CliRunFolder, ARunWithoutATestSetIsReported) {
  const auto dir = test_support::fresh_dir("cli_no_eval") / "run";
  const auto r = run_cli("run --out " + dir.string() + " --data-dir " + PREIMAGE_DATA_DIR +
                         " --train-images 256 --eval-images none --images 40 --epochs 1"
                         " --hidden-width 16 --batch-size 64 --classifier " +
                         test_support::fixture_classifier().string() +
                         " --bonus-epochs 2 --amortized-epochs 1 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "type_error")) << r.output;
  EXPECT_TRUE(fs::exists(dir / "report.md"));
  EXPECT_TRUE(fs::exists(dir / "report.html"));
}
