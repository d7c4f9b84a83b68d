#pragma once
// One-sample two-sided Kolmogorov-Smirnov test against a normal distribution, as
// scipy.stats.kstest(x, 'norm', args=(mu, sigma)) computes it in scipy 1.10.1 (ks_1samp in
// scipy/stats/_stats_py.py). Golden tests: tests/stats/test_ks.cpp.
#include <cstddef>
#include <vector>

#include "stats/result.h"

namespace preimage::stats {

// How the p-value is obtained from D_n.
enum class KsMethod {
  // The exact distribution of D_n (scipy's method='exact', which 'auto' always picks for a
  // one-sample test in 1.10.1): kolmogn_sf(n, D), see kolmogorov.h.
  kExact,
  // The limit distribution: kolmogorov_sf(sqrt(n) D) (scipy's method='asymp', kstwobign).
  kAsymptotic,
};

// KS result plus where D was attained (scipy's statistic_location / statistic_sign).
struct KsResult : TestResult {
  double location = 0.0;  // the sample value at which |F_n - F| is largest
  int sign = 1;           // +1 when F_n exceeds F there (D+), -1 otherwise (D-)
};

// Test x against Normal(mu, sigma) with known parameters. D = max(D+, D-) with
// D+ = max_i(i/n - F(x_(i))), D- = max_i(F(x_(i)) - (i-1)/n). Throws std::invalid_argument on
// empty input, NaN/inf values, or sigma <= 0.
KsResult ks_test_normal(const std::vector<double>& x, double mu, double sigma,
                        KsMethod method = KsMethod::kExact);

// Test x against Normal(mean(x), std(x, ddof)): what kstest(x, 'norm', args=(x.mean(), x.std()))
// does (numpy's std has ddof=0, hence our default; statsmodels' Lilliefors uses ddof=1). With
// estimated parameters the KS p-value is far too large (conservative): report lilliefors_normal()
// next to it. The statistic barely depends on ddof (O(1/n)); both are golden-tested.
KsResult ks_test_normal_fitted(const std::vector<double>& x, std::size_t ddof = 0,
                               KsMethod method = KsMethod::kExact);

}  // namespace preimage::stats
