// One-sample KS test (scipy.stats.kstest) and Lilliefors (statsmodels) against the goldens in
// tests/fixtures/stats/one_d.json.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "golden.h"
#include "stats/descriptive.h"
#include "stats/ks_test.h"
#include "stats/lilliefors.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;
using testing::load_sample;
using testing::sample_name;

TEST(KsTestGolden, MatchesScipyKstest) {
  const auto fixture = load_fixture("one_d.json");
  GoldenCheck check("kstest norm");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> x = load_sample(c["sample"]);
    const std::string name = sample_name(c["sample"]);
    for (const char* key : {"ks_std0", "ks_std1", "ks_fixed"}) {
      const auto& g = c[key];
      const std::string what = name + " " + key;
      check.statistic(g["mu"].get<double>(), key == std::string("ks_fixed") ? 1.0 : mean(x),
                      what + " mu");
      const KsResult exact = ks_test_normal(x, g["mu"], g["sigma"]);
      check.statistic(exact.statistic, g["statistic"], what + " D");
      check.pvalue(exact.pvalue, g["pvalue"], what + " p [" + exact.method + "]");
      const KsResult asymp = ks_test_normal(x, g["mu"], g["sigma"], KsMethod::kAsymptotic);
      check.pvalue(asymp.pvalue, g["pvalue_asymp"], what + " p asymptotic");
    }
    // The convenience wrapper estimates the same parameters as the script.
    check.statistic(ks_test_normal_fitted(x, 0).statistic, c["ks_std0"]["statistic"],
                    name + " fitted ddof=0");
    check.statistic(ks_test_normal_fitted(x, 1).statistic, c["ks_std1"]["statistic"],
                    name + " fitted ddof=1");
  }
}

TEST(LillieforsGolden, MatchesStatsmodels) {
  const auto fixture = load_fixture("one_d.json");
  GoldenCheck check("lilliefors");
  int valid = 0;
  for (const auto& c : fixture["cases"]) {
    if (!c.contains("lilliefors")) continue;
    const std::vector<double> x = load_sample(c["sample"]);
    const std::string name = sample_name(c["sample"]);
    const auto& g = c["lilliefors"];
    const LillieforsResult r = lilliefors_normal(x);
    check.statistic(r.statistic, g["statistic"], name + " D");
    check.pvalue(dallal_wilkinson_pvalue(r.statistic, x.size()), g["pvalue_dallal_wilkinson"],
                 name + " pval_lf");
    // statsmodels' lilliefors() returns the Dallal-Wilkinson value exactly when it is <= 0.1.
    EXPECT_EQ(r.pvalue_in_valid_range, g["pvalue_dallal_wilkinson"].get<double>() <= 0.1) << name;
    if (r.pvalue_in_valid_range) {
      ++valid;
      check.pvalue(r.pvalue, g["pvalue_statsmodels"], name + " lilliefors(approx)");
    } else {
      EXPECT_GT(g["pvalue_statsmodels"].get<double>(), 0.1) << name;  // table: also "not small"
    }
  }
  EXPECT_GT(valid, 5);
}

TEST(KsTest, HandCheckedAndErrors) {
  // One value at the mean: F = 0.5, so D = max(1 - 0.5, 0.5 - 0) = 0.5 and p = P(D_1 > 0.5) = 1.
  const KsResult r = ks_test_normal({0.0}, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(r.statistic, 0.5);
  EXPECT_DOUBLE_EQ(r.pvalue, 1.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ks_test_normal({}, 0.0, 1.0), std::invalid_argument);
  EXPECT_THROW(ks_test_normal({1.0, nan}, 0.0, 1.0), std::invalid_argument);
  EXPECT_THROW(ks_test_normal({1.0, 2.0}, 0.0, 0.0), std::invalid_argument);
  EXPECT_THROW(ks_test_normal_fitted({1.0}, 1), std::invalid_argument);
  EXPECT_THROW(lilliefors_normal({1.0, 2.0, 3.0}), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::stats
