// invert --shard k/n and merge: the merged run equals the unsplit one; parts of different runs,
// missing or repeated parts, and bad shards fail before any work.
#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "data/tensor_io.h"
#include "util/atomic_file.h"
#include "cli_runner.h"
#include "fixture_runs.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::expect_failure;
using test_support::run_cli;

namespace {
std::string invert_shard(const fs::path& run, const std::string& shard, const fs::path& out,
                         const std::string& extra = "") {
  return "invert " + run.string() + " --method gauss-newton --quiet --shard " + shard +
         " --out " + out.string() + " " + extra;
}
}  // namespace

// Shards of 40 images solved in chunks of 40 run the very products the unsplit run makes in its
// chunks of 40, so the merged run must equal it to the bit. (With other chunk sizes the float32
// GEMMs round differently, and Gauss-Newton's accept/reject decisions can amplify that.)
TEST(ShardMerge, MergedShardsEqualTheUnsplitRun) {
  const auto dir = test_support::fresh_dir("run_cli_shards");
  const auto whole = dir / "whole";
  fs::copy(test_support::fixture_inverted(), whole, fs::copy_options::recursive);
  auto r = run_cli("invert " + whole.string() +
                   " --method gauss-newton --quiet --chunk 40 --curves 0 --curves 50");
  ASSERT_EQ(r.status, 0) << r.output;
  for (int k = 0; k < 3; ++k) {
    r = run_cli(invert_shard(whole, std::to_string(k) + "/3", dir / ("part" + std::to_string(k)),
                             "--chunk 40 --curves 0 --curves 50"));
    ASSERT_EQ(r.status, 0) << r.output;
  }
  // Parts in any order.
  r = run_cli("merge " + (dir / "merged").string() + " " + (dir / "part2").string() + " " +
              (dir / "part0").string() + " " + (dir / "part1").string() + " --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string file : {"latents/gauss-newton.npy", "latents/MT.npy", "indices.npy",
                                 "labels.npy", "losses/gauss-newton_final.npy",
                                 "losses/gauss-newton_iterations.npy",
                                 "losses/gauss-newton_stop_reason.npy"}) {
    auto a = data::read_npy_tensor(whole / file), b = data::read_npy_tensor(dir / "merged" / file);
    ASSERT_EQ(a.sizes(), b.sizes()) << file;
    EXPECT_TRUE(torch::equal(a, b)) << file << ": largest difference "
                                    << (a.to(torch::kFloat64) - b.to(torch::kFloat64))
                                           .abs().max().item<double>();
  }
  EXPECT_EQ(test_support::read_text(whole / "results.csv"),
            test_support::read_text(dir / "merged" / "results.csv"));
  EXPECT_EQ(test_support::read_text(whole / "thesis/gauss-newton/solutions.txt"),
            test_support::read_text(dir / "merged" / "thesis/gauss-newton/solutions.txt"));
  // Curves of run positions 0 and 50 (in parts 0 and 1) come back.
  EXPECT_EQ(data::read_npy_tensor(dir / "merged" / "curves/gauss-newton.npy").size(0), 2);
}

TEST(ShardMerge, PartsOfDifferentRunsAreRefusedBeforeAnyWork) {
  const auto run = test_support::fixture_inverted();
  const auto dir = test_support::fresh_dir("run_cli_bad_shards");
  ASSERT_EQ(run_cli(invert_shard(run, "0/2", dir / "a0")).status, 0);
  ASSERT_EQ(run_cli(invert_shard(run, "1/2", dir / "a1")).status, 0);
  // Other settings: another method's part.
  ASSERT_EQ(run_cli("invert " + run.string() + " --method lbfgs --quiet --shard 1/2 --out " +
                    (dir / "b1").string()).status, 0);
  ASSERT_EQ(run_cli(invert_shard(run, "1/3", dir / "c1")).status, 0);
  const auto out = dir / "merged";
  expect_failure(run_cli("merge " + out.string() + " " + (dir / "a0").string() + " " +
                         (dir / "b1").string()),
                 "shards of different runs");
  expect_failure(run_cli("merge " + out.string() + " " + (dir / "a0").string() + " " +
                         (dir / "c1").string()),
                 "shards of different runs");
  expect_failure(run_cli("merge " + out.string() + " " + (dir / "a0").string()), "missing");
  expect_failure(run_cli("merge " + out.string() + " " + (dir / "a0").string() + " " +
                         (dir / "a0").string() + " " + (dir / "a1").string()),
                 "given twice");
  expect_failure(run_cli("merge " + out.string() + " " + run.string()), "not a shard");
  // A part whose manifest names a shard outside 0..n-1 (it segfaulted at 10^9 and -10^8).
  for (const std::string index : {"2", "100", "1000000000", "-100000000", "1.5"}) {
    const auto part = dir / ("edited_" + index);
    fs::remove_all(part);
    fs::copy(dir / "a1", part, fs::copy_options::recursive);
    auto manifest = nlohmann::json::parse(util::read_file(part / "manifest.json"));
    manifest["shard"]["index"] = nlohmann::json::parse(index);
    util::write_file_atomic(part / "manifest.json", manifest.dump());
    const auto r = run_cli("merge " + out.string() + " " + (dir / "a0").string() + " " +
                           part.string());
    expect_failure(r, "manifest.json");
    EXPECT_EQ(r.status, 1) << index << "\n" << r.output;
    EXPECT_TRUE(r.output.find(index == "1.5" ? "not the expected type" : "is not a part k/n") !=
                std::string::npos)
        << index << "\n" << r.output;
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing is written before every check passed";
}

TEST(BadInput, ShardsOutOfBoundsAndRangesFailEarly) {
  const auto run = test_support::fixture_inverted();
  const auto dir = test_support::fresh_dir("run_cli_bad_input");
  expect_failure(run_cli(invert_shard(run, "3/3", dir / "x")), "out of bounds");
  EXPECT_FALSE(fs::exists(dir / "x"));
  expect_failure(run_cli(invert_shard(run, "1/0", dir / "x")), "out of bounds");
  expect_failure(run_cli(invert_shard(run, "two/3", dir / "x")), "cannot read shard");
  expect_failure(run_cli("invert " + run.string() + " --shard 0/2"), "needs --out");
  expect_failure(run_cli("encode " + run.string() + " --images 50:50"), "empty or inverted");
  expect_failure(run_cli("encode " + run.string() + " --images 60:20"), "empty or inverted");
  expect_failure(run_cli("invert " + run.string() + " --method newton"), "lbfgs");
  expect_failure(run_cli("invert " + run.string() + " --method grid --refine newton"), "newton");
}

TEST(BadInput, GridRefusesALargeLatentDimensionBeforeAnyWork) {
  const auto dir = test_support::fresh_dir("run_cli_l4");
  auto r = run_cli("train --out " + (dir / "run").string() + " --data-dir " + PREIMAGE_DATA_DIR +
                   " --train-images 256 --eval-images none --epochs 1 --hidden-width 16"
                   " --latent-dim 4 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(run_cli("encode " + (dir / "run").string() + " --data-dir " + PREIMAGE_DATA_DIR +
                    " --images 10 --quiet").status, 0);
  expect_failure(run_cli("invert " + (dir / "run").string() + " --method grid"),
                 "latent dimension of at most 3");
  expect_failure(run_cli("invert " + (dir / "run").string() + " --method lbfgs --start grid"),
                 "latent dimension of at most 3");
  EXPECT_FALSE(fs::exists(dir / "run" / "latents" / "grid.npy"));
}
