#pragma once
// Correlation coefficients with two-sided p-values, as scipy 1.10.1 computes them.
#include <vector>

#include "stats/result.h"

namespace preimage::stats {

// Pearson's r and its two-sided p-value; matches scipy.stats.pearsonr: under H0 (independent
// normal samples) r follows Beta(n/2 - 1, n/2 - 1) on (-1, 1), so p = 2 * sf(|r|).
// n == 2 gives r = +-1 with p = 1 (scipy's convention). Throws std::invalid_argument when the sizes
// differ, n < 2, a value is NaN/inf, or an input is constant (r undefined; scipy returns NaN).
TestResult pearson(const std::vector<double>& x, const std::vector<double>& y);

// Spearman's rank correlation rho and its two-sided p-value; matches scipy.stats.spearmanr: ties
// get average ranks, p from Student's t = rho * sqrt((n - 2) / ((1 + rho)(1 - rho))) with n - 2
// dof. Same input checks as pearson(), plus n >= 3.
TestResult spearman(const std::vector<double>& x, const std::vector<double>& y);

// Ranks 1..n with ties given their average rank (scipy.stats.rankdata, method='average').
std::vector<double> average_ranks(const std::vector<double>& x);

}  // namespace preimage::stats
