#include "stats/correlation.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <numeric>
#include <sstream>

#include "stats/validate.h"

namespace preimage::stats {
namespace {

void check_pair(const std::vector<double>& x, const std::vector<double>& y, const char* where,
                std::size_t min_size) {
  std::ostringstream msg;
  msg << "x and y must have the same length, got " << x.size() << " and " << y.size();
  detail::require(x.size() == y.size(), where, msg.str());
  detail::require_finite(x, where, min_size, "x");
  detail::require_finite(y, where, min_size, "y");
  const auto constant = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [&](double e) { return e == v[0]; });
  };
  detail::require(!constant(x) && !constant(y), where,
                  "an input is constant, so the correlation coefficient is undefined");
}

// r of two vectors, computed like scipy: centre, scale each by its norm, then dot, clip to [-1, 1].
double correlation_coefficient(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  const double nx = std::sqrt(sxx), ny = std::sqrt(syy);
  for (std::size_t i = 0; i < x.size(); ++i) sxy += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
  return std::clamp(sxy, -1.0, 1.0);
}

}  // namespace

TestResult pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "stats::pearson", 2);
  if (x.size() == 2) {
    const double r = ((x[1] > x[0]) == (y[1] > y[0])) ? 1.0 : -1.0;
    return {r, 1.0, "Pearson r, n=2 (p=1 by convention)"};
  }
  const double r = correlation_coefficient(x, y);
  const double ab = static_cast<double>(x.size()) / 2.0 - 1.0;  // Beta shape parameters
  // sf of Beta(ab, ab) on (-1, 1) at |r| is the upper tail of the standard beta at (|r| + 1) / 2.
  const double p = 2.0 * boost::math::ibetac(ab, ab, (std::abs(r) + 1.0) / 2.0);
  return {r, std::min(p, 1.0), "Pearson r, exact beta distribution"};
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

TestResult spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "stats::spearman", 3);
  const double rho = correlation_coefficient(average_ranks(x), average_ranks(y));
  const double dof = static_cast<double>(x.size()) - 2.0;
  const double denom = (rho + 1.0) * (1.0 - rho);
  if (denom <= 0.0) return {rho, 0.0, "Spearman rho, Student t"};  // |rho| = 1: t is infinite
  const double t = rho * std::sqrt(dof / denom);
  const boost::math::students_t dist(dof);
  const double p = 2.0 * boost::math::cdf(dist, -std::abs(t));
  return {rho, p, "Spearman rho, Student t"};
}

}  // namespace preimage::stats
