#include "stats/descriptive.h"

#include <cmath>
#include <sstream>

#include "stats/validate.h"

namespace preimage::stats {

double mean(const std::vector<double>& x) {
  detail::require_finite(x, "stats::mean");
  double sum = 0.0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

double variance(const std::vector<double>& x, std::size_t ddof) {
  detail::require_finite(x, "stats::variance", ddof + 1);
  const double m = mean(x);
  double ss = 0.0;
  for (double v : x) ss += (v - m) * (v - m);
  return ss / static_cast<double>(x.size() - ddof);
}

double standard_deviation(const std::vector<double>& x, std::size_t ddof) {
  return std::sqrt(variance(x, ddof));
}

double standard_error(const std::vector<double>& x, std::size_t ddof) {
  return standard_deviation(x, ddof) / std::sqrt(static_cast<double>(x.size()));
}

MeanWithError mean_with_error(const std::vector<double>& x) {
  return {mean(x), standard_error(x, /*ddof=*/1)};
}

std::vector<double> column_means(const Matrix& x) {
  detail::require(x.rows > 0 && x.cols > 0, "stats::column_means", "the matrix is empty");
  detail::require_finite(x.data, "stats::column_means", 1, "matrix");
  std::vector<double> m(x.cols, 0.0);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t c = 0; c < x.cols; ++c) m[c] += x(r, c);
  for (double& v : m) v /= static_cast<double>(x.rows);
  return m;
}

Matrix covariance(const Matrix& x, std::size_t ddof) {
  if (x.rows <= ddof) {
    std::ostringstream msg;
    msg << "stats::covariance: " << x.rows << " observation(s) with ddof=" << ddof
        << ", needs more than " << ddof;
    throw std::invalid_argument(msg.str());
  }
  const std::vector<double> m = column_means(x);
  Matrix cov(x.cols, x.cols);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t i = 0; i < x.cols; ++i)
      for (std::size_t j = i; j < x.cols; ++j) cov(i, j) += (x(r, i) - m[i]) * (x(r, j) - m[j]);
  const double denom = static_cast<double>(x.rows - ddof);
  for (std::size_t i = 0; i < x.cols; ++i)
    for (std::size_t j = i; j < x.cols; ++j) cov(j, i) = cov(i, j) = cov(i, j) / denom;
  return cov;
}

}  // namespace preimage::stats
