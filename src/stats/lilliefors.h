#pragma once
// Lilliefors' test of normality: the KS statistic of x against Normal(mean(x), std(x, ddof=1)),
// with a p-value that accounts for the two estimated parameters. Matches statsmodels 0.13.5
// `lilliefors(x, dist='norm', pvalmethod='approx')` wherever that function uses the
// Dallal-Wilkinson formula, i.e. whenever the p-value is <= 0.1. Golden tests:
// tests/stats/test_lilliefors.cpp.
//
// Dallal & Wilkinson (1986), "An analytic approximation to the distribution of Lilliefors's test
// statistic for normality", The American Statistician 40(4), 294-296:
//   p = exp(-7.01256 D^2 (n + 2.78019) + 2.99587 D sqrt(n + 2.78019) - 0.122119
//           + 0.974598 / sqrt(n) + 1.67997 / n),
// fitted for 5 <= n <= 100 and p <= 0.1; for n > 100 D is replaced by D (n/100)^0.49 and n by 100
// (statsmodels, following the paper). Above p = 0.1 the formula is not valid (it can even exceed
// 1); statsmodels then interpolates a simulated table, which we do not port: our result flags it.
#include <cstddef>
#include <vector>

#include "stats/result.h"

namespace preimage::stats {

// p-value is valid (matches statsmodels) when p <= this bound.
constexpr double kDallalWilkinsonMaxP = 0.1;

struct LillieforsResult : TestResult {
  // True when the Dallal-Wilkinson formula is inside its validated range (p <= 0.1); when false,
  // `pvalue` is only "p > 0.1" evidence: the test does not reject at any usual level.
  bool pvalue_in_valid_range = false;
};

// The Dallal-Wilkinson approximate p-value for a KS statistic d from a sample of size n;
// statsmodels.stats._lilliefors.pval_lf(d, n). Not clipped to [0, 1].
double dallal_wilkinson_pvalue(double d, std::size_t n);

// Lilliefors test; needs n >= 4 (statsmodels' minimum) and finite values, else throws
// std::invalid_argument.
LillieforsResult lilliefors_normal(const std::vector<double>& x);

}  // namespace preimage::stats
