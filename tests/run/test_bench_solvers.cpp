// preimage bench-solvers: every method on the same images, the oracle, the careful references.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tiny_run.h"

using namespace preimage;
using test_support::contains;
using test_support::run_cli;

TEST(BenchSolvers, ComparesTheMethodsWithTheOracleAndTheCarefulRuns) {
  const auto& run = test_support::tiny_run();
  auto r = run_cli("bench-solvers " + run.string() +
                   " --methods adafactor lbfgs gauss-newton grid:gauss-newton --images 40 --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "| grid:gauss-newton |")) << r.output;
  auto json = nlohmann::json::parse(test_support::read_text(run / "solver_benchmark.json"));
  EXPECT_EQ(json["images"], 40);
  const double oracle = json["oracle"]["mean_loss"];
  std::map<std::string, nlohmann::json> rows;
  for (const auto& m : json["methods"]) rows[m["method"]] = m;
  ASSERT_EQ(rows.size(), 6u) << json.dump(2);  // four methods and two careful runs
  for (const auto& [name, m] : rows) {
    EXPECT_LE(oracle, m["mean_final_loss"].get<double>() + 1e-9) << name;
    EXPECT_LE(m["mean_final_loss"].get<double>(), m["mean_initial_loss"].get<double>()) << name;
    EXPECT_GE(m["within_oracle"].get<double>(), 0.0);
    EXPECT_LE(m["within_oracle"].get<double>(), 1.0);
    const double beats = m["beats_thesis"], ties = m["ties_thesis"];
    EXPECT_LE(beats + ties, 1.0 + 1e-12) << name;
  }
  EXPECT_EQ(rows["adafactor"]["beats_thesis"], 0.0);
  EXPECT_EQ(rows["adafactor"]["ties_thesis"], 1.0);
  for (const std::string method : {"lbfgs", "gauss-newton"}) {
    ASSERT_TRUE(rows[method].contains("within_careful")) << method;
    // The best careful run is at most the method's own: being within 0.1% of it is harder.
    EXPECT_LE(rows[method]["within_any_careful"].get<double>(),
              rows[method]["within_careful"].get<double>());
    EXPECT_TRUE(rows.count("careful " + method + " (1000 it, tolerances / 100)")) << method;
  }
  EXPECT_FALSE(rows["grid:gauss-newton"].contains("within_careful"));
}
