// Mardia and Henze-Zirkler against the independent numpy transcription in
// scripts/golden_stats.py (tests/fixtures/stats/two_d.json).
#include <gtest/gtest.h>

#include <cmath>

#include "golden.h"
#include "stats/multivariate_normality.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;
using testing::load_sample;
using testing::sample_name;

TEST(MultivariateGolden, MardiaAndHenzeZirklerMatchNumpy) {
  const auto fixture = load_fixture("two_d.json");
  GoldenCheck check("mardia / henze-zirkler");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> flat = load_sample(c["sample"]);
    const Matrix x(flat.size() / 2, 2, flat);
    const std::string name = sample_name(c["sample"]);
    const auto& gm = c["mardia"];
    const MardiaResult m = mardia(x);
    check.statistic(m.b1, gm["b1"], name + " b1");
    check.statistic(m.b2, gm["b2"], name + " b2");
    check.statistic(m.skewness_dof, gm["skewness_dof"], name + " dof");
    check.statistic(m.skewness.statistic, gm["skewness_statistic"], name + " skew stat");
    check.pvalue(m.skewness.pvalue, gm["skewness_pvalue"], name + " skew p");
    check.statistic(m.kurtosis.statistic, gm["kurtosis_statistic"], name + " kurt stat");
    check.pvalue(m.kurtosis.pvalue, gm["kurtosis_pvalue"], name + " kurt p");
    const auto& gh = c["henze_zirkler"];
    const HenzeZirklerResult h = henze_zirkler(x);
    check.statistic(h.beta, gh["beta"], name + " HZ beta");
    check.statistic(h.lognormal_mu, gh["lognormal_mu"], name + " HZ mu");
    check.statistic(h.lognormal_sigma, gh["lognormal_sigma"], name + " HZ sigma");
    check.statistic(h.statistic, gh["statistic"], name + " HZ");
    check.pvalue(h.pvalue, gh["pvalue"], name + " HZ p");
  }
}

TEST(Multivariate, InvariantUnderAffineMaps) {
  // Both statistics are affine invariant: scaling and shearing the points changes nothing.
  const Matrix x(6, 2, {0.1, 0.3, 1.2, -0.4, -0.7, 0.9, 2.0, 1.1, -1.5, -0.2, 0.4, -1.3});
  Matrix y = x;
  for (std::size_t r = 0; r < y.rows; ++r) {
    y(r, 1) = 3.0 * x(r, 1) + 0.5 * x(r, 0) - 7.0;
    y(r, 0) = 2.0 * x(r, 0) + 1.0;
  }
  EXPECT_NEAR(mardia(x).b1, mardia(y).b1, 1e-12);
  EXPECT_NEAR(mardia(x).b2, mardia(y).b2, 1e-12);
  EXPECT_NEAR(henze_zirkler(x).statistic, henze_zirkler(y).statistic, 1e-12);
}

TEST(Multivariate, Errors) {
  EXPECT_THROW(mardia(Matrix(3, 2, {0, 0, 1, 1, 2, 2})), std::invalid_argument);        // too few
  EXPECT_THROW(mardia(Matrix(4, 2, {0, 0, 1, 1, 2, 2, 3, 3})), std::invalid_argument);  // collinear
  EXPECT_THROW(henze_zirkler(Matrix(4, 2, {0, 0, 1, NAN, 2, 1, 3, 0})), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::stats
