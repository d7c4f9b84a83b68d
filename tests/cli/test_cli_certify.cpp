// `preimage certify` and `invert --certify` on the shared runs: the files it writes agree with
// each other and with the method's own losses; a killed certificate resumes from its parts to
// the same bytes; what cannot be certified is refused with the reason; `analyze` uses the
// certified optimum.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "child_process.h"
#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {

const char* const kArrays[] = {"lower_bound", "optimum", "optimum_latents", "gap",
                               "certified",   "improved", "at_edge",        "cells"};

torch::Tensor array(const fs::path& run, const std::string& method, const std::string& what) {
  return data::read_npy_tensor(run / "losses" / (method + "_" + what + ".npy"));
}

nlohmann::json certificate(const fs::path& run, const std::string& method) {
  return nlohmann::json::parse(util::read_file(run / "losses" / (method + "_certificate.json")));
}

}  // namespace

TEST(CliCertify, ProvesTheRunsOptimaAndWritesConsistentFiles) {
  const auto dir = test_support::copy_fixture(test_support::fixture_run(), "cli_certify");
  const auto r = run_cli("certify " + dir.string() + " --method adafactor --parts 2 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "images certified within")) << r.output;
  const int64_t n = 200;
  for (const char* what : kArrays)
    EXPECT_EQ(array(dir, "adafactor", what).size(0), n) << what;
  const auto lower = array(dir, "adafactor", "lower_bound");
  const auto optimum = array(dir, "adafactor", "optimum");
  const auto certified = array(dir, "adafactor", "certified");
  const auto method_loss = data::read_npy_tensor(dir / "losses/adafactor_final.npy").to(torch::kFloat64);
  // No point is below the bound; the optimum is a point's loss, at most the method's (which is
  // float32 arithmetic: the same point in float64 differs by its rounding).
  EXPECT_TRUE(lower.le(optimum).all().item<bool>());
  EXPECT_TRUE(optimum.le(method_loss * (1 + 1e-5) + 1e-5).all().item<bool>());
  const auto j = certificate(dir, "adafactor");
  EXPECT_EQ(j["images"].get<int64_t>(), n);
  EXPECT_EQ(j["certified"].get<int64_t>(), certified.sum().item<int64_t>());
  // Most images of a 2-D latent space are proven within the default tolerance.
  EXPECT_GE(j["share_certified"].get<double>(), 0.9) << j.dump(2);
  const auto gap = array(dir, "adafactor", "gap");
  EXPECT_TRUE(gap.masked_select(certified).le(1e-4).all().item<bool>());
  // The step is committed and recorded: nothing left under partial/.
  EXPECT_FALSE(fs::exists(dir / "partial" / "certify_adafactor"));
  const auto manifest = nlohmann::json::parse(util::read_file(dir / "manifest.json"));
  EXPECT_TRUE(contains(manifest.dump(), "adafactor_lower_bound.npy"));

  // analyze: the share certified, and the certified optimum as the solver benchmark's oracle.
  const auto a = run_cli("analyze " + dir.string() + " --classifier " +
                         test_support::fixture_classifier().string() +
                         " --bonus-epochs 1 --amortized-epochs 1 --quiet");
  ASSERT_EQ(a.status, 0) << a.output;
  const auto analysis = nlohmann::json::parse(util::read_file(dir / "analysis.json"));
  ASSERT_TRUE(analysis.contains("certificates")) << analysis.dump().substr(0, 400);
  EXPECT_EQ(analysis["certificates"]["adafactor"]["certified"].get<int64_t>(),
            certified.sum().item<int64_t>());

  // bench-solvers: the certified optimum joins the oracle, which is then at most it.
  const auto b = run_cli("bench-solvers " + dir.string() +
                         " --methods adafactor --no-careful --images 0:50 --quiet");
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_TRUE(contains(b.output, "the oracle includes the certificates of adafactor")) << b.output;
  const auto bench = nlohmann::json::parse(util::read_file(dir / "solver_benchmark.json"));
  EXPECT_LE(bench["oracle"]["mean_loss"].get<double>(),
            optimum.slice(0, 0, 50).mean().item<double>() * (1 + 1e-6));
  EXPECT_EQ(bench["oracle"]["share_certified"].get<double>(),
            certified.slice(0, 0, 50).to(torch::kFloat64).mean().item<double>());
}

TEST(CliCertify, AKilledCertificateResumesToTheSameBytes) {
  const auto whole = test_support::copy_fixture(test_support::fixture_run(), "cli_certify_whole");
  const auto killed = test_support::copy_fixture(test_support::fixture_run(), "cli_certify_killed");
  const std::string flags = " --method adafactor --parts 8 --quiet";
  ASSERT_EQ(run_cli("certify " + whole.string() + flags).status, 0);
  {
    test_support::ChildProcess child("certify " + killed.string() + flags,
                                     killed.parent_path() / "killed.log");
    // Killed once two parts are recorded.
    const auto records = killed / "partial" / "certify_adafactor";
    test_support::wait_until(child, [&] { return test_support::chunks_recorded(records) >= 2; });
    ASSERT_TRUE(child.running()) << "finished before two parts could be seen";
    child.kill();
  }
  EXPECT_FALSE(fs::exists(killed / "losses" / "adafactor_certificate.json"));
  const auto r = run_cli("certify " + killed.string() + " --method adafactor --parts 8");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "resuming")) << r.output;
  for (const char* what : kArrays)
    EXPECT_EQ(util::read_file(whole / "losses" / (std::string("adafactor_") + what + ".npy")),
              util::read_file(killed / "losses" / (std::string("adafactor_") + what + ".npy")))
        << what;
}

TEST(CliCertify, RefusesWhatItCannotCertifyWithTheReason) {
  const auto run = test_support::fixture_run().string();
  for (const auto& [flags, expected] :
       {std::pair{"--method lbfgs", "lbfgs"},
        std::pair{"--method adafactor --certify-tol 2", "--certify-tol"},
        std::pair{"--method adafactor --radius 0", "--radius"},
        std::pair{"--method adafactor --parts -1", "--parts"},
        std::pair{"--method adafactor --local-neurons -1", "--local-neurons"}}) {
    const auto r = run_cli(std::string("certify ") + run + " " + flags);
    test_support::expect_failure(r, expected);
    EXPECT_FALSE(contains(r.output, "terminate")) << r.output;
  }
  EXPECT_FALSE(fs::exists(test_support::fixture_run() / "losses" / "adafactor_certificate.json"));
}

TEST(CliCertify, InvertWithCertifyProvesTheGridSearch) {
  const auto dir = test_support::copy_fixture(test_support::fixture_inverted(), "cli_certify_grid");
  const auto r = run_cli("invert " + dir.string() + " --method grid --certify --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "Certificate of grid")) << r.output;
  const auto j = certificate(dir, "grid");
  EXPECT_EQ(j["images"].get<int64_t>(), 120);
  EXPECT_EQ(j["config"]["radius"].get<double>(), 4.0);  // the grid's box
  // The grid search with its refinement is the oracle today: its points are rarely improved by
  // more than 0.1%, and the certificate says which.
  const auto optimum = array(dir, "grid", "optimum");
  const auto grid = data::read_npy_tensor(dir / "losses/grid_final.npy").to(torch::kFloat64);
  EXPECT_TRUE(optimum.le(grid * (1 + 1e-5) + 1e-5).all().item<bool>());
}
