// preimage bench-solvers: every method on the same images of the shared run, against the oracle
// (the best loss any method found) and the careful references.
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "fixture_runs.h"

using namespace preimage;
using test_support::contains;
using test_support::run_cli;

TEST(BenchSolvers, ComparesTheMethodsWithTheOracleAndTheCarefulRuns) {
  const auto run = test_support::copy_fixture(test_support::fixture_inverted(), "bench_solvers");
  auto r = run_cli("bench-solvers " + run.string() +
                   " --methods adafactor,lbfgs,gauss-newton,grid:gauss-newton --images 40 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "| grid:gauss-newton |")) << r.output;
  auto json = nlohmann::json::parse(test_support::read_text(run / "solver_benchmark.json"));
  EXPECT_EQ(json["images"], 40);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& m : json["methods"]) rows[m["method"]] = m;
  ASSERT_EQ(rows.size(), 6u) << json.dump(2);  // four methods and two careful runs
  ASSERT_TRUE(rows.count("careful lbfgs (1000 it, tolerances / 100)")) << json.dump(2);
  ASSERT_TRUE(rows.count("careful gauss-newton (1000 it, tolerances / 100)")) << json.dump(2);
  const auto& thesis = rows["adafactor"];
  const auto& grid = rows["grid:gauss-newton"];
  // The thesis's method ties with itself on every image, and runs its 150 steps on all of them.
  EXPECT_EQ(thesis["ties_thesis"], 1.0);
  EXPECT_EQ(thesis["converged"], 0.0);
  EXPECT_EQ(thesis["mean_iterations"], 150.0);
  // The global search ends below the local methods started at the encoder's point, on average
  // and in the share of images at the oracle (the best loss any method found); every method
  // starts at the same loss.
  EXPECT_LT(grid["mean_final_loss"].get<double>(), thesis["mean_final_loss"].get<double>());
  for (const std::string local : {"lbfgs", "gauss-newton"}) {
    EXPECT_LE(grid["mean_final_loss"].get<double>(), rows[local]["mean_final_loss"].get<double>())
        << local;
    EXPECT_GE(grid["within_oracle"].get<double>(), rows[local]["within_oracle"].get<double>())
        << local;
  }
  EXPECT_NEAR(grid["mean_initial_loss"].get<double>(), thesis["mean_initial_loss"].get<double>(),
              1e-9);
  for (const std::string method : {"lbfgs", "gauss-newton"}) {
    const auto& row = rows[method];
    // The methods that stop by their own rule stop so on every image, within 0.1% of their own
    // long careful run from the same start.
    EXPECT_EQ(row["converged"], 1.0) << method;
    EXPECT_GE(row["within_careful"].get<double>(), 0.95) << method;
    EXPECT_LT(row["mean_iterations"].get<double>(), 100) << method;
  }
  EXPECT_FALSE(grid.contains("within_careful"));
  // The benchmark writes into the run folder it compares.
  EXPECT_TRUE(std::filesystem::exists(run / "solver_benchmark.json"));
}

TEST(BenchSolvers, AnUnknownMethodOrRefinementIsRefused) {
  const auto run = test_support::fixture_inverted();
  test_support::expect_failure(run_cli("bench-solvers " + run.string() + " --methods newton"),
                               "unknown method 'newton'");
  test_support::expect_failure(
      run_cli("bench-solvers " + run.string() + " --methods grid:newton"), "unknown refinement");
  test_support::expect_failure(
      run_cli("bench-solvers " + run.string() + " --methods lbfgs:quadratic"),
      "only grid takes a refinement");
}
