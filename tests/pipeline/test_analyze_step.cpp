// `preimage analyze` end to end on the shared run (tests/support/fixture_runs.h: a narrow VAE
// trained 2 epochs on 6000 images, 200 images encoded and inverted, a classifier trained 1 epoch
// on 6000 images), through `run` (which analyzes at its end) and alone; and every bad input failing
// with a message naming what is missing.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "fixture_runs.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(util::read_file(p)); }

// A copy of the shared run to damage.
fs::path copy_run(const std::string& name) {
  return test_support::copy_fixture(test_support::fixture_run(), name);
}

}  // namespace

TEST(AnalyzeCli, RunAnalyzesAndWritesEverySection) {
  const auto run = test_support::fixture_run();
  const auto run_output = test_support::fixture_run_output();
  ASSERT_TRUE(fs::exists(run / "analysis.json")) << run_output;
  const auto a = read_json(run / "analysis.json");
  EXPECT_EQ(a["schema_version"], 1);
  EXPECT_EQ(a["images"], 200);
  EXPECT_EQ(a["spaces"], (std::vector<std::string>{"MT", "adafactor", "MB", "MA"}));
  for (const char* section : {"latent_statistics", "paired_distances", "classifier",
                              "success_rate", "normality", "bonus", "vector_analysis"})
    EXPECT_TRUE(a.contains(section)) << section;
  for (const std::string s : {"MT", "adafactor", "MB", "MA"}) {
    const auto& ls = a["latent_statistics"][s];
    EXPECT_EQ(ls["mean"].size(), 2u) << s;
    EXPECT_EQ(ls["per_digit"]["loss"]["count"].size(), 10u) << s;
    EXPECT_EQ(ls["lowest_loss"].size(), 9u) << s;
    EXPECT_EQ(ls["lowest_loss_digits"]["n"], 50) << s;
    EXPECT_EQ(a["success_rate"][s]["vs_original_prediction"]["total"], 200) << s;
    EXPECT_EQ(a["success_rate"][s]["confusion"].size(), 10u) << s;
    EXPECT_TRUE(a["normality"][s]["radius_ks"].contains("pvalue")) << s;
    EXPECT_TRUE(a["normality"][s]["henze_zirkler"].contains("pvalue")) << s;
    if (s != "MT") {
      EXPECT_EQ(ls["delta_pct"]["histogram"]["counts"].size(), 50u) << s;
      EXPECT_EQ(ls["delta_pct"]["histogram"]["edges"].size(), 51u) << s;
      EXPECT_TRUE(a["vector_analysis"][s].contains("share_positive")) << s;
      const auto field = data::read_npy_tensor(run / a["vector_analysis"][s]["file"].get<std::string>());
      EXPECT_EQ(field.sizes(), (std::vector<int64_t>{200, 5})) << s;
    }
  }
  EXPECT_EQ(a["paired_distances"].size(), 6u);  // 4 spaces: 6 pairs
  EXPECT_EQ(a["bonus"]["split"]["train_rows"], 160);
  EXPECT_EQ(a["bonus"]["held_out"]["images"], 40);
  EXPECT_EQ(a["bonus"]["MB"]["log"].size(), 5u);
  EXPECT_TRUE(a["classifier"]["test_accuracy"].is_number());
  EXPECT_EQ(data::read_npy_tensor(run / "analysis/predictions.npy").sizes(),
            (std::vector<int64_t>{200, 5}));
  EXPECT_TRUE(fs::exists(run / "latents/MB.npy"));
  // The adafactor delta is the stored one; MT's loss is the adafactor run's initial loss.
  const auto initial = data::read_npy_tensor(run / "losses/adafactor_initial.npy");
  EXPECT_NEAR(a["latent_statistics"]["MT"]["loss"]["mean"].get<double>(),
              initial.to(torch::kFloat64).mean().item<double>(), 1e-3);
  // The tables were printed.
  for (const char* table : {"Mean vector and covariance", "Success rate", "right ",
                            "Normality tests", "Bonus models", "Vector analysis", "lowest final"})
    EXPECT_TRUE(contains(run_output, table)) << table << "\n" << run_output;
  EXPECT_EQ(read_json(run / "manifest.json")["analysis"]["file"], "analysis.json");
}

TEST(AnalyzeCli, AnalyzeAloneIsDeterministic) {
  const auto run = test_support::fixture_run();
  const auto dir = copy_run("analyze_again");
  auto r = run_cli("analyze " + dir.string() + " --classifier " +
                   test_support::fixture_classifier().string() +
                   " --bonus-epochs 5 --amortized-epochs 2 --lowest 50 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  auto a = read_json(run / "analysis.json"), b = read_json(dir / "analysis.json");
  EXPECT_EQ(a["latent_statistics"], b["latent_statistics"]);
  EXPECT_EQ(a["success_rate"], b["success_rate"]);
  EXPECT_EQ(a["bonus"]["held_out"], b["bonus"]["held_out"]);
}

TEST(AnalyzeCli, BadInputsNameWhatIsMissing) {
  const auto run = test_support::fixture_run();
  const std::string cls =
      " --classifier " + test_support::fixture_classifier().string() + " --no-bonus --quiet";

  auto r = run_cli("analyze /nonexistent/run" + cls);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "/nonexistent/run") && contains(r.output, "does not exist")) << r.output;

  auto no_mt = copy_run("analyze_no_mt");
  fs::remove(no_mt / "latents/MT.npy");
  r = run_cli("analyze " + no_mt.string() + cls);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "MT.npy")) << r.output;

  auto no_labels = copy_run("analyze_no_labels");
  fs::remove(no_labels / "labels.npy");
  r = run_cli("analyze " + no_labels.string() + cls);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "labels.npy")) << r.output;

  auto short_mn = copy_run("analyze_short");
  auto mn = data::read_npy_tensor(short_mn / "latents/adafactor.npy");
  data::write_npy_tensor(short_mn / "latents/adafactor.npy", mn.slice(0, 0, 150).clone());
  r = run_cli("analyze " + short_mn.string() + cls);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "adafactor.npy") && contains(r.output, "150 rows") &&
              contains(r.output, "200 images")) << r.output;

  // A VAE checkpoint given as the classifier.
  r = run_cli("analyze " + run.string() + " --classifier " + (run / "model.pt").string() +
              " --no-bonus --quiet");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "model.pt") && contains(r.output, "not the classifier")) << r.output;

  // No classifier and no permission to train one.
  r = run_cli("analyze " + run.string() + " --classifier " +
              (test_support::fresh_dir("analyze_none") / "none.pt").string() +
              " --no-train-classifier --no-bonus --quiet");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "none.pt") && contains(r.output, "train-classifier")) << r.output;
}
