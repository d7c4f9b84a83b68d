// Every bad input fails before any long work: non-zero exit, a message naming the file and
// what was expected, and no model or results written.
#include <filesystem>

#include <gtest/gtest.h>

#include "test_helpers.h"
#include "cli_runner.h"
#include "data/idx.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {
// Fails with the message, before any training.
void expect_early_failure(const test_support::CliResult& r, const std::string& must_contain) {
  test_support::expect_failure(r, must_contain);
  EXPECT_FALSE(contains(r.output, "epoch:")) << "it started training:\n" << r.output;
}
}  // namespace

TEST(CliErrors, MissingDataFolderSaysHowToFetchIt) {
  const auto out = test_support::fresh_dir("cli_nodata");
  auto r = run_cli("run --out " + (out / "run").string() + " --data-dir /nonexistent/data");
  expect_early_failure(r, "scripts/setup.sh");
  EXPECT_TRUE(contains(r.output, "/nonexistent/data/mnist")) << r.output;
  EXPECT_FALSE(fs::exists(out / "run" / "model.pt"));
}

TEST(CliErrors, CorruptIdxFiles) {
  const auto dir = test_support::fresh_dir("cli_idx");
  util::write_file_atomic(dir / "magic.idx", std::string("\x01\x02\x08\x03", 4) + std::string(12, '\0'));
  expect_early_failure(run_cli("run --out " + (dir / "r1").string() + " --data " +
                         (dir / "magic.idx").string()),
                 "magic.idx");
  data::write_idx(dir / "trunc.idx", torch::zeros({10, 28, 28}, torch::kUInt8));
  std::string bytes = util::read_file(dir / "trunc.idx");
  util::write_file_atomic(dir / "trunc.idx", bytes.substr(0, bytes.size() - 50));
  expect_early_failure(run_cli("run --out " + (dir / "r2").string() + " --data " +
                         (dir / "trunc.idx").string()),
                 "truncated");
  data::write_idx(dir / "labels.idx", torch::zeros({10}, torch::kUInt8));
  expect_early_failure(run_cli("run --out " + (dir / "r3").string() + " --data " +
                         (dir / "labels.idx").string()),
                 "1 dimensions, expected 3");
}

TEST(CliErrors, NanInImages) {
  const auto dir = test_support::fresh_dir("cli_nan");
  auto x = torch::rand({20, 28, 28});
  x[3][4][5] = std::nanf("");
  data::write_npy_tensor(dir / "images.npy", x);
  expect_early_failure(run_cli("run --out " + (dir / "r").string() + " --data " +
                         (dir / "images.npy").string()),
                 "NaN");
}

TEST(CliErrors, MissingAndMismatchedCheckpoints) {
  const auto dir = test_support::fresh_dir("cli_ckpt");
  auto r = run_cli("run --out " + (dir / "r").string() + " --model " + (dir / "absent.pt").string() +
                   " --data-dir " + PREIMAGE_DATA_DIR);
  expect_early_failure(r, "absent.pt");
  EXPECT_TRUE(contains(r.output, "does not exist")) << r.output;

  // Train a tiny model (latent 2), then ask for latent 3 with it.
  auto t = run_cli("train --out " + (dir / "m").string() + " --data-dir " + PREIMAGE_DATA_DIR +
                   " --train-images 128 --eval-images none --epochs 1 --hidden-width 16"
                   " --batch-size 64 --quiet");
  ASSERT_EQ(t.status, 0) << t.output;
  r = run_cli("run --out " + (dir / "r2").string() + " --model " + (dir / "m" / "model.pt").string() +
              " --latent-dim 3 --data-dir " + PREIMAGE_DATA_DIR);
  expect_early_failure(r, "model.pt");
  EXPECT_TRUE(contains(r.output, "expected")) << r.output;
  EXPECT_FALSE(fs::exists(dir / "r2" / "latents"));

  // A run folder without a model.
  fs::create_directories(dir / "empty");
  util::write_file_atomic(dir / "empty" / "manifest.json", "{}");
  expect_early_failure(run_cli("encode " + (dir / "empty").string()), "records no model");
  expect_early_failure(run_cli("encode " + (dir / "nothing").string()), "does not exist");
}

TEST(CliErrors, UnwritableOutputFolder) {
  const auto dir = test_support::fresh_dir("cli_unwritable");
  util::write_file_atomic(dir / "a_file", "x");
  expect_early_failure(run_cli("run --out " + (dir / "a_file" / "run").string() + " --data-dir " +
                         PREIMAGE_DATA_DIR),
                 "a_file/run");
}

TEST(CliErrors, BadFlags) {
  EXPECT_NE(run_cli("invert /tmp --method newton").status, 0);
  auto r = run_cli("run --images 0");
  expect_early_failure(r, "empty");
  r = run_cli("run --images 70000 --data-dir " + std::string(PREIMAGE_DATA_DIR) + " --out " +
              test_support::fresh_dir("cli_range").string());
  expect_early_failure(r, "60000");
  r = run_cli("run --preset slow");
  EXPECT_NE(r.status, 0);
}
