// The same commands under MPI (docs/SCALING.md): `mpirun -np 3 preimage invert|run|certify|
// encode|likelihood|bench-solvers` writes the bytes one process writes with the same --chunk
// (--block, --batch-size); a rank that fails stops the job with its rank
// in the message and nothing written; a job killed whole (kill -9 of mpirun and its ranks) or
// through one rank resumes from the chunks it recorded, to the same bytes. Skipped, with the
// reason, where preimage was built without MPI or mpirun is missing (scripts/setup.sh installs
// both, so CI runs them).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <thread>

#include "child_process.h"
#include "cli_runner.h"
#include "fixture_runs.h"
#include "folder_snapshot.h"
#include "util/build_config.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {

// Open MPI as root, more ranks than cores, on one machine; rank 0 not bound to one core (its
// own steps, training and encoding, use the BLAS's threads as one process does).
const std::string kMpirun = "mpirun --allow-run-as-root --oversubscribe --bind-to none -np ";

std::string skip_reason() {
  if (!PREIMAGE_HAVE_MPI) return "preimage was built without MPI";
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) return "mpirun is not installed";
  return "";
}
#define SKIP_WITHOUT_MPI()                       \
  do {                                           \
    const auto reason = skip_reason();           \
    if (!reason.empty()) GTEST_SKIP() << reason; \
  } while (0)

// What a command writes into a run, less the records of its seconds (the manifest, summary.json).
test_support::FolderSnapshot results(const fs::path& run) {
  return test_support::snapshot(run, [](const std::string& rel) {
    return rel != "manifest.json" && rel != "summary.json" && rel != ".lock" &&
           rel.rfind("partial", 0) != 0;
  });
}

void expect_same(const fs::path& a, const fs::path& b) {
  const auto sa = results(a), sb = results(b);
  EXPECT_GT(sa.size(), 3u);
  EXPECT_TRUE(test_support::differences(sa, sb).empty())
      << "differ: " << ::testing::PrintToString(test_support::differences(sa, sb));
}

const std::string kInvert = " --method adafactor --chunk 8 --quiet";
// Slow enough to be killed between chunks: 30 chunks of 4 images, 2000 steps each.
const std::string kLong = " --method adafactor --chunk 4 --steps 2000";

// A JSON file less its records of time and memory (keys named in `timing`, at any depth).
nlohmann::json without_timing(const fs::path& file) {
  static const std::vector<std::string> timing = {
      "seconds", "cpu_seconds", "images_per_second", "peak_memory_mib", "thesis_speedup"};
  auto j = nlohmann::json::parse(test_support::read_text(file));
  std::function<void(nlohmann::json&)> strip = [&](nlohmann::json& v) {
    if (v.is_object())
      for (const auto& key : timing) v.erase(key);
    if (v.is_structured())
      for (auto& child : v) strip(child);
  };
  strip(j);
  return j;
}

int64_t chunks_recorded(const fs::path& run) {
  return test_support::chunks_recorded(run / "partial" / "adafactor");
}

}  // namespace

TEST(CliMpi, InvertOnThreeRanksWritesTheBytesOfOneProcess) {
  SKIP_WITHOUT_MPI();
  // Adafactor (the thesis's), and the grid search, whose decoded grid every rank makes itself.
  for (const std::string method : {"adafactor", "grid --grid-points 101"}) {
    const auto one = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_one");
    const auto three = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_three");
    const std::string flags = " --method " + method + " --chunk 8";
    const auto a = run_cli("invert " + one.string() + flags + " --quiet");
    ASSERT_EQ(a.status, 0) << a.output;
    const auto b = run_cli("invert " + three.string() + flags, kMpirun + "3 ");
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_TRUE(contains(b.output, "on the other 2 ranks")) << b.output;
    EXPECT_FALSE(fs::exists(three / "partial")) << "the chunks' records outlived the step";
    SCOPED_TRACE(method);
    expect_same(one, three);
  }
}

TEST(CliMpi, RunOnTwoRanksWritesTheBytesOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const auto root = test_support::fresh_dir("mpi_run");
  const std::string flags =
      " --model " + (test_support::fixture_run() / "model.pt").string() + " --data-dir " +
      PREIMAGE_DATA_DIR + " --images 48 --method lbfgs --chunk 8 --no-analyze --no-report --quiet";
  const auto a = run_cli("run --out " + (root / "one").string() + flags);
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("run --out " + (root / "two").string() + flags, kMpirun + "2 ");
  ASSERT_EQ(b.status, 0) << b.output;
  expect_same(root / "one", root / "two");
}

TEST(CliMpi, CertifyOnThreeRanksWritesTheBytesOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const auto one = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_cert_one");
  const auto three = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_cert_three");
  const std::string flags = " --method gauss-newton --parts 5";
  const auto a = run_cli("certify " + one.string() + flags + " --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("certify " + three.string() + flags, kMpirun + "3 ");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "on the other 2 ranks")) << b.output;
  for (const char* what : {"lower_bound", "optimum", "optimum_latents", "gap", "certified",
                           "improved", "at_edge", "cells"}) {
    const auto name = std::string("gauss-newton_") + what + ".npy";
    EXPECT_EQ(test_support::read_text(one / "losses" / name),
              test_support::read_text(three / "losses" / name))
        << name;
  }
}

TEST(CliMpi, EncodeOnThreeRanksWritesTheBytesOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const auto one = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_enc_one");
  const auto three = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_enc_three");
  fs::remove(one / "latents" / "MT.npy");
  fs::remove(three / "latents" / "MT.npy");
  const auto a = run_cli("encode " + one.string() + " --batch-size 16 --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("encode " + three.string() + " --batch-size 16", kMpirun + "3 ");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "on the other 2 ranks")) << b.output;
  EXPECT_FALSE(contains(b.output, "not shared")) << b.output;
  ASSERT_TRUE(fs::exists(three / "latents" / "MT.npy"));
  expect_same(one, three);
}

TEST(CliMpi, LikelihoodOnThreeRanksWritesTheBytesOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const auto one = test_support::copy_fixture(test_support::fixture_run(), "mpi_lik_one");
  const auto three = test_support::copy_fixture(test_support::fixture_run(), "mpi_lik_three");
  // 200 training images in chunks of 48 (the last one shorter), the gaps on the first 60 (two
  // chunks), and 30 test images.
  const std::string flags =
      " --points 101 --test-images 0:30 --gap-images 60 --posterior-steps 10 --chunk 48";
  const auto a = run_cli("likelihood " + one.string() + flags + " --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("likelihood " + three.string() + flags, kMpirun + "3 ");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "on the other 2 ranks")) << b.output;
  int arrays = 0;
  for (const auto& e : fs::directory_iterator(one / "likelihood")) {
    ++arrays;
    const auto name = e.path().filename();
    EXPECT_EQ(test_support::read_text(e.path()), test_support::read_text(three / "likelihood" / name))
        << name;
  }
  EXPECT_GE(arrays, 10);
  EXPECT_EQ(without_timing(one / "likelihood.json"), without_timing(three / "likelihood.json"));
}

TEST(CliMpi, AnalyzeOnTwoRanksSharesItsLikelihood) {
  SKIP_WITHOUT_MPI();
  const auto one = test_support::copy_fixture(test_support::fixture_run(), "mpi_an_one");
  const auto two = test_support::copy_fixture(test_support::fixture_run(), "mpi_an_two");
  const std::string flags =
      " --classifier " + test_support::fixture_classifier().string() +
      " --likelihood-points 101 --likelihood-test-images 0:30 --likelihood-chunk 64";
  const auto a = run_cli("analyze " + one.string() + flags + " --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("analyze " + two.string() + flags, kMpirun + "2 ");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "on the other 1 ranks")) << b.output;
  for (const auto& e : fs::directory_iterator(one / "likelihood"))
    EXPECT_EQ(test_support::read_text(e.path()),
              test_support::read_text(two / "likelihood" / e.path().filename()))
        << e.path().filename();
}

TEST(CliMpi, BenchSolversOnThreeRanksGivesTheFiguresOfOneProcess) {
  SKIP_WITHOUT_MPI();
  const auto one = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_bench_one");
  const auto three = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_bench_three");
  // Two rows and lbfgs's careful reference, each in chunks of 8 of the first 40 images.
  const std::string flags = " --methods adafactor,lbfgs --images 0:40 --chunk 8";
  const auto a = run_cli("bench-solvers " + one.string() + flags + " --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto b = run_cli("bench-solvers " + three.string() + flags, kMpirun + "3 ");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "on the other 2 ranks")) << b.output;
  const auto ja = without_timing(one / "solver_benchmark.json");
  ASSERT_EQ(ja.at("methods").size(), 3u) << ja.dump(1);
  EXPECT_EQ(ja, without_timing(three / "solver_benchmark.json"));
}

TEST(CliMpi, ACommandThatSharesNothingRunsOnRankZeroAlone) {
  SKIP_WITHOUT_MPI();
  // merge is rank 0's alone: it says so, and its error (no such parts) ends the whole job.
  const auto root = test_support::fresh_dir("mpi_merge");
  const auto r = run_cli("merge " + (root / "merged").string() + " " + (root / "none").string(),
                         kMpirun + "2 ");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "merge is not shared across MPI ranks")) << r.output;
  EXPECT_FALSE(fs::exists(root / "merged"));
}

TEST(CliMpi, ARankThatFailsStopsTheJobWithItsRankAndNothingWritten) {
  SKIP_WITHOUT_MPI();
  const auto dir = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_fail");
  const auto before = test_support::read_text(dir / "manifest.json");
  const auto r = run_cli("invert " + dir.string() + kInvert,
                         "PREIMAGE_TEST_FAIL_RANK=2 " + kMpirun + "3 -x PREIMAGE_TEST_FAIL_RANK ");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "rank 2 of 3")) << r.output;
  EXPECT_TRUE(contains(r.output, "PREIMAGE_TEST_FAIL_RANK")) << r.output;
  EXPECT_FALSE(fs::exists(dir / "losses" / "adafactor_final.npy"));
  EXPECT_EQ(test_support::read_text(dir / "manifest.json"), before);
}

TEST(CliMpi, AKilledJobResumesToTheBytesOfAnUninterruptedOne) {
  SKIP_WITHOUT_MPI();
  const auto whole = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_whole");
  ASSERT_EQ(run_cli("invert " + whole.string() + kLong + " --quiet").status, 0);
  // Killed whole (mpirun and every rank), then through one rank (the newest), each
  // once some chunks are recorded; the third start finishes.
  const auto killed = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_killed");
  for (const bool whole_job : {true, false}) {
    test_support::ChildProcess job("invert " + killed.string() + kLong + " --quiet",
                                   killed.parent_path() / "mpi_killed.log", "", kMpirun + "3");
    const int64_t before = chunks_recorded(killed);
    for (int i = 0; i < 6000 && job.running() && chunks_recorded(killed) < before + 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(job.running()) << "finished before it could be killed: "
                               << test_support::read_text(job.log());
    if (whole_job) {
      job.kill_children();  // every rank, then mpirun
      job.kill();
    } else {
      // One rank, the newest: mpirun ends the others and fails.
      ASSERT_EQ(
          std::system(("pkill -KILL -n -P " + std::to_string(job.pid()) + " preimage").c_str()), 0);
      EXPECT_NE(job.wait(), 0);
    }
    EXPECT_FALSE(fs::exists(killed / "losses" / "adafactor_final.npy"));
  }
  const auto r = run_cli("invert " + killed.string() + kLong, kMpirun + "3 ");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "resuming")) << r.output;
  expect_same(whole, killed);
}

TEST(CliMpi, WithoutMpirunNothingChanges) {
  // A plain process never starts MPI: the inversion says nothing of ranks.
  const auto dir = test_support::copy_fixture(test_support::fixture_inverted(), "mpi_none");
  const auto r = run_cli("invert " + dir.string() + " --method adafactor --chunk 8");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "ranks")) << r.output;
}
