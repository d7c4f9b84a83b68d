#pragma once
// Descriptive statistics with numpy's conventions (numpy 1.24 / scipy 1.10.1 are the references
// of the golden tests in tests/stats/test_descriptive.cpp). Every function throws
// std::invalid_argument on empty input or on a NaN/inf value.
#include <cstddef>
#include <vector>

#include "stats/matrix.h"

namespace preimage::stats {

// Arithmetic mean; matches numpy.mean.
double mean(const std::vector<double>& x);

// Variance sum((x - mean)^2) / (n - ddof); matches numpy.var(x, ddof=ddof). Note numpy's default is
// ddof=0 (population) while ours is ddof=1 (unbiased sample variance): say which one you report.
// Throws when n <= ddof.
double variance(const std::vector<double>& x, std::size_t ddof = 1);

// Standard deviation sqrt(variance(x, ddof)); numpy.std(x, ddof=ddof).
double standard_deviation(const std::vector<double>& x, std::size_t ddof = 1);

// Standard error of the mean std(x, ddof) / sqrt(n); matches scipy.stats.sem (default ddof=1).
double standard_error(const std::vector<double>& x, std::size_t ddof = 1);

// A mean with its standard error, printed as "mean+-sem" in reports (ggml style).
struct MeanWithError {
  double mean = 0.0;
  double sem = 0.0;  // standard error of the mean, ddof=1
};
MeanWithError mean_with_error(const std::vector<double>& x);

// Per-column mean of a (rows=observations, cols=variables) matrix: numpy.mean(X, axis=0).
std::vector<double> column_means(const Matrix& x);

// Covariance between columns of a (rows=observations, cols=variables) matrix, (cols, cols).
// numpy.cov(X, rowvar=False, ddof=ddof) semantics: default ddof=1 (unbiased, numpy's default
// too); ddof=0 gives the maximum-likelihood (biased) covariance used by Mardia / Henze-Zirkler.
Matrix covariance(const Matrix& x, std::size_t ddof = 1);

}  // namespace preimage::stats
