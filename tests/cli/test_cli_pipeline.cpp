// The whole pipeline on a few hundred real MNIST images (the shared run, made by `preimage run`):
// every output file, in the formats a user (and the thesis's own loaders) read; a second run
// reuses the trained model; the same seed gives the same results.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"
#include "run/thesis_format.h"
#include "util/atomic_file.h"
#include "util/csv.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;

TEST(CliPipeline, SmokeRunWritesEveryOutput) {
  const auto dir = test_support::fixture_run();
  const auto output = test_support::fixture_run_output();
  EXPECT_TRUE(contains(output, "mean initial loss")) << output;
  EXPECT_TRUE(contains(output, "| MT |")) << output;

  for (const char* f : {"manifest.json", "model.pt", "train_log.csv", "latents/MT.npy",
                        "latents/adafactor.npy", "losses/adafactor_final.npy", "results.csv",
                        "summary.json", "curves/adafactor.npy", "thesis/adafactor/solutions.txt",
                        "thesis/adafactor/final_errors.txt", "thesis/adafactor/deltas.txt",
                        "analysis.json", "report.html", "report.md"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;

  auto mt = data::read_npy_tensor(dir / "latents/MT.npy");
  auto mn = data::read_npy_tensor(dir / "latents/adafactor.npy");
  EXPECT_EQ(mt.sizes(), (std::vector<int64_t>{200, 2}));
  EXPECT_EQ(mn.sizes(), (std::vector<int64_t>{200, 2}));
  auto initial = data::read_npy_tensor(dir / "losses/adafactor_initial.npy");
  auto final_loss = data::read_npy_tensor(dir / "losses/adafactor_final.npy");
  auto delta = data::read_npy_tensor(dir / "losses/adafactor_delta.npy");
  EXPECT_TRUE(torch::allclose(delta, (final_loss - initial) / initial * 100, 1e-4, 1e-4));
  EXPECT_LT(final_loss.mean().item<double>(), initial.mean().item<double>())
      << "150 Adafactor steps lower the mean loss";

  // Thesis formats read back to the same numbers.
  auto sol = run::read_thesis_solutions(dir / "thesis/adafactor/solutions.txt");
  EXPECT_TRUE(torch::allclose(sol.to(torch::kFloat32), mn));
  auto errs = run::read_thesis_values(dir / "thesis/adafactor/final_errors.txt");
  EXPECT_TRUE(torch::allclose(errs.to(torch::kFloat32), final_loss));
  const std::string first_line = util::read_file(dir / "thesis/adafactor/solutions.txt").substr(0, 40);
  EXPECT_EQ(first_line[0], '[');

  auto csv = util::read_csv(dir / "results.csv");
  EXPECT_EQ(csv.rows.size(), 200u);
  EXPECT_EQ(csv.rows[0][csv.column("label")], "5");
  EXPECT_EQ(csv.rows[0][csv.column("adafactor_iterations")], "150");

  auto manifest = nlohmann::json::parse(util::read_file(dir / "manifest.json"));
  EXPECT_EQ(manifest["images"]["count"], 200);
  EXPECT_EQ(manifest["model"]["train"]["seed"], 0);
  EXPECT_TRUE(manifest["versions"].contains("libtorch"));
  EXPECT_EQ(manifest["methods"]["adafactor"]["settings"]["max_iterations"], 150);
  auto curves = data::read_npy_tensor(dir / "curves/adafactor.npy");
  EXPECT_EQ(curves.sizes(), (std::vector<int64_t>{2, 151}));

  // Nothing half-written is left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
}

TEST(CliPipeline, ASecondRunReusesTheTrainedModel) {
  const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_reuse");
  const auto model_bytes = util::read_file(dir / "model.pt");
  const auto model_time = fs::last_write_time(dir / "model.pt");
  // Without --quiet: the log says it reuses the model, and would show any epoch trained.
  std::string flags = test_support::tiny_run_flags();
  flags = flags.substr(0, flags.find(" --quiet"));
  auto again = test_support::run_cli("run --out " + dir.string() + " " + flags +
                                     " --no-analyze --no-report");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "reusing")) << again.output;
  EXPECT_FALSE(contains(again.output, "epoch:")) << "it trained again:\n" << again.output;
  EXPECT_EQ(util::read_file(dir / "model.pt"), model_bytes);
  EXPECT_EQ(fs::last_write_time(dir / "model.pt"), model_time);
  // Another architecture is not "the same model": that run trains.
  auto other = test_support::run_cli("run --out " + dir.string() + " " +
                                     test_support::tiny_run_flags() +
                                     " --decoder-depth 2 --no-analyze --no-report");
  ASSERT_EQ(other.status, 0) << other.output;
  EXPECT_NE(util::read_file(dir / "model.pt"), model_bytes);
}

TEST(CliPipeline, SameSeedSameResults) {
  const auto dir = test_support::fresh_dir("cli_seed") / "run";
  const auto shared = test_support::fixture_run();
  ASSERT_EQ(test_support::run_cli("run --out " + dir.string() + " " +
                                  test_support::tiny_run_flags() + " --no-analyze --no-report")
                .status,
            0);
  for (const char* f : {"latents/MT.npy", "latents/adafactor.npy", "losses/adafactor_final.npy",
                        "results.csv"})
    EXPECT_EQ(util::read_file(shared / f), util::read_file(dir / f)) << f << " differs between runs";
  const auto la = util::read_csv(shared / "train_log.csv"), lb = util::read_csv(dir / "train_log.csv");
  const size_t elbo = la.column("train_elbo");
  ASSERT_EQ(la.rows.size(), lb.rows.size());
  for (size_t i = 0; i < la.rows.size(); ++i) EXPECT_EQ(la.rows[i][elbo], lb.rows[i][elbo]);
}

// The fixture's commands ran in an empty folder with the cache at cache/: a run writes its run
// folder, the user's cache (the classifier it trained on first use) and nothing else, neither
// beside the run folder (the classifier was once left there) nor in the working folder.
TEST(CliPipeline, WritesNothingOutsideTheRunFolderAndTheCache) {
  const auto root = test_support::fixture_root();
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(root)) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"cache", "cwd", "done", "inverted", "run",
                                        "run_output.txt"}));
  EXPECT_TRUE(fs::is_empty(root / "cwd")) << "a file was written in the working folder";
  std::vector<std::string> cached;
  for (const auto& e : fs::recursive_directory_iterator(root / "cache"))
    if (!e.is_directory()) cached.push_back(fs::relative(e.path(), root / "cache").string());
  ASSERT_EQ(cached.size(), 1u) << "the cache holds more than the classifier";
  EXPECT_EQ(cached[0].rfind("preimage/classifiers/mnist-lean-", 0), 0u) << cached[0];
  EXPECT_EQ(fs::path(cached[0]).extension(), ".pt");
  const auto manifest = nlohmann::json::parse(util::read_file(root / "run/analysis.json"));
  EXPECT_EQ(manifest["classifier"]["path"], fs::absolute(root / "cache" / cached[0]).string());
  EXPECT_EQ(manifest["classifier"]["cached"], true);
  EXPECT_EQ(manifest["classifier"]["trained_now"], true);
}
