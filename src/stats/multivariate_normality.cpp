#include "stats/multivariate_normality.h"

#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <sstream>
#include <vector>

#include "stats/descriptive.h"
#include "stats/validate.h"

namespace preimage::stats {
namespace {

// (n, d) data whitened with the biased covariance: z_i = L^-1 (x_i - xbar), S = L L'.
// Then z_i' z_j = (x_i - xbar)' S^-1 (x_j - xbar).
Matrix whiten(const Matrix& x, const char* where) {
  std::ostringstream shape;
  shape << "needs at least d + 2 = " << x.cols + 2 << " points of dimension d = " << x.cols
        << ", got " << x.rows;
  detail::require(x.cols > 0 && x.rows >= x.cols + 2, where, shape.str());
  detail::require_finite(x.data, where, 1, "points");
  const std::size_t n = x.rows, d = x.cols;
  const Matrix S = covariance(x, /*ddof=*/0);
  Matrix L(d, d);  // Cholesky factor of S
  for (std::size_t j = 0; j < d; ++j) {
    double diag = S(j, j);
    for (std::size_t k = 0; k < j; ++k) diag -= L(j, k) * L(j, k);
    if (!(diag > 1e-14 * S(j, j)) || !(S(j, j) > 0)) {
      std::ostringstream msg;
      msg << "the covariance of the points is singular (column " << j
          << " is constant or a linear combination of the others)";
      throw std::invalid_argument(std::string(where) + ": " + msg.str());
    }
    L(j, j) = std::sqrt(diag);
    for (std::size_t i = j + 1; i < d; ++i) {
      double s = S(i, j);
      for (std::size_t k = 0; k < j; ++k) s -= L(i, k) * L(j, k);
      L(i, j) = s / L(j, j);
    }
  }
  const std::vector<double> m = column_means(x);
  Matrix z(n, d);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t i = 0; i < d; ++i) {  // forward substitution L z = x - m
      double s = x(r, i) - m[i];
      for (std::size_t k = 0; k < i; ++k) s -= L(i, k) * z(r, k);
      z(r, i) = s / L(i, i);
    }
  return z;
}

double normal_sf(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

}  // namespace

MardiaResult mardia(const Matrix& x) {
  const Matrix z = whiten(x, "stats::mardia");
  const std::size_t n = z.rows, d = z.cols;
  const double nd = static_cast<double>(n), dd = static_cast<double>(d);

  // Third moments m_abc = mean_i z_ia z_ib z_ic over all ordered triples; b1 = sum m_abc^2.
  std::vector<double> m3(d * d * d, 0.0);
  double b2 = 0.0;
  for (std::size_t r = 0; r < n; ++r) {
    double norm2 = 0.0;
    for (std::size_t a = 0; a < d; ++a) {
      norm2 += z(r, a) * z(r, a);
      for (std::size_t b = 0; b < d; ++b)
        for (std::size_t c = 0; c < d; ++c) m3[(a * d + b) * d + c] += z(r, a) * z(r, b) * z(r, c);
    }
    b2 += norm2 * norm2;
  }
  double b1 = 0.0;
  for (double v : m3) b1 += (v / nd) * (v / nd);
  b2 /= nd;

  MardiaResult res;
  res.b1 = b1;
  res.b2 = b2;
  res.skewness_dof = dd * (dd + 1) * (dd + 2) / 6.0;
  res.skewness.statistic = nd * b1 / 6.0;
  res.skewness.pvalue = boost::math::gamma_q(res.skewness_dof / 2.0, res.skewness.statistic / 2.0);
  res.skewness.method = "Mardia skewness, chi-squared";
  res.kurtosis.statistic = (b2 - dd * (dd + 2)) / std::sqrt(8.0 * dd * (dd + 2) / nd);
  res.kurtosis.pvalue = 2.0 * normal_sf(std::abs(res.kurtosis.statistic));
  res.kurtosis.method = "Mardia kurtosis, normal";
  return res;
}

HenzeZirklerResult henze_zirkler(const Matrix& x) {
  const Matrix z = whiten(x, "stats::henze_zirkler");
  const std::size_t n = z.rows, d = z.cols;
  const double nd = static_cast<double>(n), dd = static_cast<double>(d);
  const double beta = (1.0 / std::sqrt(2.0)) * std::pow((2 * dd + 1) / 4.0, 1.0 / (dd + 4)) *
                      std::pow(nd, 1.0 / (dd + 4));
  const double b2 = beta * beta;

  // Squared Mahalanobis norms D_i and pairwise distances D_ij, both from the whitened points.
  std::vector<double> norm2(n, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t a = 0; a < d; ++a) norm2[r] += z(r, a) * z(r, a);
  double pair_sum = 0.0;  // sum over i < j of exp(-beta^2 / 2 D_ij)
  for (std::size_t i = 0; i < n; ++i) {
    double row = 0.0;
    for (std::size_t j = i + 1; j < n; ++j) {
      double dij = 0.0;
      for (std::size_t a = 0; a < d; ++a) dij += (z(i, a) - z(j, a)) * (z(i, a) - z(j, a));
      row += std::exp(-b2 / 2.0 * dij);
    }
    pair_sum += row;
  }
  double single_sum = 0.0;
  for (double di : norm2) single_sum += std::exp(-b2 / (2.0 * (1.0 + b2)) * di);
  const double hz = (nd + 2.0 * pair_sum) / nd - 2.0 * std::pow(1.0 + b2, -dd / 2.0) * single_sum +
                    nd * std::pow(1.0 + 2.0 * b2, -dd / 2.0);

  // Mean and variance of HZ under normality, matched by a lognormal.
  const double a = 1.0 + 2.0 * b2;
  const double wb = (1.0 + b2) * (1.0 + 3.0 * b2);
  const double b4 = b2 * b2, b8 = b4 * b4;
  const double mu =
      1.0 - std::pow(a, -dd / 2.0) * (1.0 + dd * b2 / a + dd * (dd + 2) * b4 / (2.0 * a * a));
  const double si2 =
      2.0 * std::pow(1.0 + 4.0 * b2, -dd / 2.0) +
      2.0 * std::pow(a, -dd) *
          (1.0 + 2.0 * dd * b4 / (a * a) + 3.0 * dd * (dd + 2) * b8 / (4.0 * std::pow(a, 4))) -
      4.0 * std::pow(wb, -dd / 2.0) *
          (1.0 + 3.0 * dd * b4 / (2.0 * wb) + dd * (dd + 2) * b8 / (2.0 * wb * wb));
  const double pmu = std::log(std::sqrt(std::pow(mu, 4) / (si2 + mu * mu)));
  const double psi = std::sqrt(std::log((si2 + mu * mu) / (mu * mu)));

  HenzeZirklerResult res;
  res.statistic = hz;
  res.pvalue = hz > 0 ? normal_sf((std::log(hz) - pmu) / psi) : 1.0;
  res.method = "Henze-Zirkler, lognormal approximation";
  res.beta = beta;
  res.lognormal_mu = pmu;
  res.lognormal_sigma = psi;
  return res;
}

}  // namespace preimage::stats
