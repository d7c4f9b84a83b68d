// Shapiro-Wilk against scipy.stats.shapiro (float32 swilk) on 1-D samples and on flattened 2-D
// point sets, including the 10000-value case where scipy warns (tests/fixtures/stats).
#include <gtest/gtest.h>

#include <limits>

#include "golden.h"
#include "stats/shapiro_wilk.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;
using testing::load_sample;
using testing::sample_name;

TEST(ShapiroWilkGolden, MatchesScipyOneD) {
  const auto fixture = load_fixture("one_d.json");
  GoldenCheck check("shapiro 1-D");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> x = load_sample(c["sample"]);
    const std::string name = sample_name(c["sample"]);
    const ShapiroResult r = shapiro_wilk(x);
    check.statistic(r.statistic, c["shapiro"]["statistic"], name + " W");
    check.pvalue(r.pvalue, c["shapiro"]["pvalue"], name + " p");
    EXPECT_EQ(r.pvalue_may_be_inaccurate, c["shapiro"]["warned_large_n"].get<bool>()) << name;
  }
}

TEST(ShapiroWilkGolden, MatchesScipyFlattenedPoints) {
  const auto fixture = load_fixture("two_d.json");
  GoldenCheck check("shapiro flattened 2-D");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> x = load_sample(c["sample"]);
    const ShapiroResult r = shapiro_wilk(x);
    check.statistic(r.statistic, c["shapiro_flat"]["statistic"], sample_name(c["sample"]) + " W");
    check.pvalue(r.pvalue, c["shapiro_flat"]["pvalue"], sample_name(c["sample"]) + " p");
  }
  const auto& big = fixture["shapiro_10000"];
  const std::vector<double> x = load_sample(big["sample"]);
  ASSERT_EQ(x.size(), 10000u);
  const ShapiroResult r = shapiro_wilk(x);
  check.statistic(r.statistic, big["shapiro_flat"]["statistic"], "5000 points flattened W");
  check.pvalue(r.pvalue, big["shapiro_flat"]["pvalue"], "5000 points flattened p");
  EXPECT_TRUE(r.pvalue_may_be_inaccurate);
  EXPECT_TRUE(big["shapiro_flat"]["warned_large_n"].get<bool>());
}

TEST(ShapiroWilk, HandCheckedAndErrors) {
  // n = 3 equally spaced: W = 1 and the exact p-value is 1.
  const ShapiroResult r = shapiro_wilk({1.0, 2.0, 3.0});
  EXPECT_NEAR(r.statistic, 1.0, 1e-6);
  EXPECT_NEAR(r.pvalue, 1.0, 1e-5);
  const ShapiroResult flat = shapiro_wilk({2.0, 2.0, 2.0, 2.0});
  EXPECT_TRUE(flat.zero_range);
  EXPECT_THROW(shapiro_wilk({1.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(shapiro_wilk({1.0, 2.0, std::numeric_limits<double>::quiet_NaN()}),
               std::invalid_argument);
}

}  // namespace
}  // namespace preimage::stats
