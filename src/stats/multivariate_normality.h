#pragma once
// Tests of multivariate normality for (n, d) point sets, e.g. the (N, 2) latent points of the
// thesis, which test the joint distribution instead of each coordinate on its own. scipy has
// neither test: tests/stats/test_multivariate.cpp compares against an independent numpy
// transcription of the formulas in scripts/golden_stats.py.
// Both tests standardise with the biased (maximum-likelihood, ddof=0) covariance S, as the papers
// and R's MVN package do.
#include "stats/matrix.h"
#include "stats/result.h"

namespace preimage::stats {

// Mardia (1970), "Measures of multivariate skewness and kurtosis with applications",
// Biometrika 57(3), 519-530. With d_ij = (x_i - xbar)' S^-1 (x_j - xbar):
//   b1 = n^-2 sum_ij d_ij^3,  skewness statistic n b1 / 6 ~ chi2 with d(d+1)(d+2)/6 dof;
//   b2 = n^-1 sum_i d_ii^2,   kurtosis statistic (b2 - d(d+2)) / sqrt(8 d(d+2) / n) ~ N(0, 1),
//                             two-sided p-value.
// No small-sample correction. b1 is computed in O(n d^3) through third moments of the whitened
// data (sum_ij d_ij^3 = n^2 sum_abc m_abc^2), so it is cheap for 60000 points.
struct MardiaResult {
  double b1 = 0.0;            // multivariate skewness
  double b2 = 0.0;            // multivariate kurtosis
  double skewness_dof = 0.0;  // d(d+1)(d+2)/6
  TestResult skewness;        // statistic n b1 / 6, chi-squared upper tail
  TestResult kurtosis;        // standardised b2, two-sided normal p-value
};

// Henze & Zirkler (1990), "A class of invariant consistent tests for multivariate normality",
// Commun. Statist. Theory Meth. 19(10), 3595-3617, with smoothing
// beta = ((2d + 1) n / 4)^(1/(d+4)) / sqrt(2) and the lognormal approximation of the null
// distribution (mean and variance of HZ from the paper; the p-value convention of R's MVN).
// Costs O(n^2 d): 1 s for n = 20000 and ~9 s for n = 60000 (d = 2, one core, -O2).
struct HenzeZirklerResult : TestResult {
  double beta = 0.0;             // smoothing parameter
  double lognormal_mu = 0.0;     // log-scale mean of the approximating lognormal
  double lognormal_sigma = 0.0;  // log-scale standard deviation
};

// Both throw std::invalid_argument when x has fewer than d + 2 rows, no columns, a NaN/inf value,
// or a singular covariance (e.g. collinear points).
MardiaResult mardia(const Matrix& x);
HenzeZirklerResult henze_zirkler(const Matrix& x);

}  // namespace preimage::stats
