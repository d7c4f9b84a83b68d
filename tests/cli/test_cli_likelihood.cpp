// `preimage likelihood` on the shared run, and the likelihood section `analyze` wrote: the
// figures are consistent with what they are (gaps >= 0, the MAP point's log joint above every
// space's, the quadrature's check), the arrays have a row per image, and bad settings are named.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "child_process.h"
#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {
nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}
}  // namespace

TEST(CliLikelihood, ScoresTheRunsImagesAndTestImagesConsistently) {
  const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_likelihood");
  const auto r = run_cli("likelihood " + dir.string() +
                         " --points 301 --test-images 0:60 --gap-images 25 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "Inference gaps")) << r.output;
  const auto j = read_json(dir / "likelihood.json");
  for (const auto& [set, n] : {std::pair{"train", 200}, std::pair{"test", 60}}) {
    SCOPED_TRACE(set);
    const auto& s = j.at("sets").at(set);
    EXPECT_EQ(s.at("images").get<int64_t>(), n);
    const auto log_px = data::read_npy_tensor(dir / "likelihood" / (std::string(set) + "_log_px.npy"));
    ASSERT_EQ(log_px.size(0), n);
    EXPECT_TRUE(log_px.isfinite().all().item<bool>());
    EXPECT_TRUE(log_px.lt(0).all().item<bool>());  // a probability of a binary image
    // ELBO <= log p(x) for the encoder's posterior and for the best Gaussian.
    const auto encoder =
        data::read_npy_tensor(dir / "likelihood" / (std::string(set) + "_elbo_encoder.npy"));
    EXPECT_TRUE((encoder <= log_px + 1e-3).all().item<bool>());
    const auto amortization =
        data::read_npy_tensor(dir / "likelihood" / (std::string(set) + "_amortization_gap.npy"));
    const auto approximation =
        data::read_npy_tensor(dir / "likelihood" / (std::string(set) + "_approximation_gap.npy"));
    ASSERT_EQ(amortization.size(0), 25);
    EXPECT_GE(amortization.min().item<double>(), 0.0);
    EXPECT_GE(approximation.min().item<double>(), -1e-3);
    // The MAP point maximizes the log joint: every space's point is at or below it, per image.
    const auto map =
        data::read_npy_tensor(dir / "likelihood" / (std::string(set) + "_log_joint_MAP.npy"));
    for (const auto& space : s.at("spaces")) {
      const auto lj = data::read_npy_tensor(
          dir / "likelihood" / (std::string(set) + "_log_joint_" + space.get<std::string>() + ".npy"));
      ASSERT_EQ(lj.size(0), n);
      EXPECT_TRUE((lj <= map + 1e-3).all().item<bool>()) << space;
    }
    EXPECT_TRUE(s.at("check").contains("mean_change"));
  }
  EXPECT_TRUE(j["sets"]["train"]["log_joint"].contains("adafactor"));
}

// By default the held-out set is as large as the run's (at most 1000), from test image 1000 on:
// the 200-image run scores test 1000:1200, not a fixed thousand.
TEST(CliLikelihood, TheHeldOutImagesAreSizedToTheRun) {
  const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_lik_auto");
  const auto r = run_cli("likelihood " + dir.string() +
                         " --points 101 --gap-images 0 --posterior-steps 1 --no-map --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = read_json(dir / "likelihood.json");
  EXPECT_EQ(j["config"]["test_images"], "1000:1200");
  EXPECT_EQ(j["sets"]["test"]["images"].get<int64_t>(), 200);
}

TEST(CliLikelihood, ChunksOfImagesGiveTheFiguresOfTheWholeSet) {
  // --chunk 37: six chunks of the 200 images, the gaps (first 50) across two of them, each
  // chunk with its own threads: the same arrays as the set at once, to float rounding.
  const auto whole = test_support::copy_fixture(test_support::fixture_run(), "cli_lik_whole");
  const auto chunked = test_support::copy_fixture(test_support::fixture_run(), "cli_lik_chunks");
  const std::string flags =
      " --points 101 --test-images none --gap-images 50 --posterior-steps 10 --quiet";
  ASSERT_EQ(run_cli("likelihood " + whole.string() + flags).status, 0);
  const auto r = run_cli("likelihood " + chunked.string() + flags + " --chunk 37");
  ASSERT_EQ(r.status, 0) << r.output;
  int compared = 0;
  for (const auto& e : fs::directory_iterator(whole / "likelihood")) {
    const auto a = data::read_npy_tensor(e.path()).to(torch::kFloat64);
    const auto b =
        data::read_npy_tensor(chunked / "likelihood" / e.path().filename()).to(torch::kFloat64);
    ASSERT_EQ(a.sizes(), b.sizes()) << e.path().filename();
    EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-3)) << e.path().filename();
    ++compared;
  }
  EXPECT_GE(compared, 8);
  const auto ja = read_json(whole / "likelihood.json")["sets"]["train"];
  const auto jb = read_json(chunked / "likelihood.json")["sets"]["train"];
  EXPECT_EQ(ja["spaces"], jb["spaces"]);
  EXPECT_EQ(jb["gaps"]["images"].get<int64_t>(), 50);
  EXPECT_NEAR(ja["log_px"]["mean"].get<double>(), jb["log_px"]["mean"].get<double>(), 1e-4);
  EXPECT_EQ(read_json(chunked / "likelihood.json")["config"]["chunk"].get<int64_t>(), 37);
}

TEST(CliLikelihood, AKilledCommandResumesFromItsChunksToTheSameBytes) {
  const auto whole = test_support::copy_fixture(test_support::fixture_run(), "cli_lik_uncut");
  const auto killed = test_support::copy_fixture(test_support::fixture_run(), "cli_lik_killed");
  const std::string flags =
      " --points 201 --test-images none --gap-images 20 --posterior-steps 10 --chunk 10";
  ASSERT_EQ(run_cli("likelihood " + whole.string() + flags + " --quiet").status, 0);
  EXPECT_FALSE(fs::exists(whole / "partial")) << "the records outlived the step";
  {
    test_support::ChildProcess child("likelihood " + killed.string() + flags + " --quiet",
                                     killed.parent_path() / "killed.log");
    // Killed once three chunks are recorded.
    const auto records = killed / "partial" / "likelihood_train";
    test_support::wait_until(child, [&] { return test_support::chunks_recorded(records) >= 3; });
    ASSERT_TRUE(child.running()) << "finished before three chunks could be seen";
    child.kill();
  }
  const auto r = run_cli("likelihood " + killed.string() + flags);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "resuming")) << r.output;
  EXPECT_FALSE(fs::exists(killed / "partial"));
  for (const auto& e : fs::directory_iterator(whole / "likelihood"))
    EXPECT_EQ(test_support::read_text(e.path()),
              test_support::read_text(killed / "likelihood" / e.path().filename()))
        << e.path().filename();
}

TEST(CliLikelihood, AnalyzeWroteTheSectionAndTheReportShowsIt) {
  const auto a = read_json(test_support::fixture_run() / "analysis.json");
  ASSERT_TRUE(a.contains("likelihood")) << a.value("left_out", nlohmann::json()).dump();
  EXPECT_TRUE(a["likelihood"]["sets"].contains("train"));
  const auto md = test_support::read_text(test_support::fixture_run() / "report.md");
  EXPECT_TRUE(contains(md, "Exact log-likelihood"));
  EXPECT_TRUE(contains(md, "amortization gap"));
}

TEST(CliLikelihood, BadSettingsAreNamed) {
  const auto run = test_support::fixture_run().string();
  for (const auto& [flags, expected] :
       {std::pair{"--points 300", "odd number of points"},
        std::pair{"--radius -1", "radius must be a positive"},
        std::pair{"--test-images 5:2", "5:2"},
        std::pair{"--posterior-steps -4", "--posterior-steps"},
        std::pair{"--chunk -1", "--chunk must be >= 0"}}) {
    const auto r = run_cli(std::string("likelihood ") + run + " " + flags);
    EXPECT_NE(r.status, 0) << flags;
    EXPECT_TRUE(contains(r.output, expected)) << flags << "\n" << r.output;
    EXPECT_FALSE(contains(r.output, "terminate")) << r.output;
  }
}
