#include "stats/ks_test.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "stats/descriptive.h"
#include "stats/kolmogorov.h"
#include "stats/validate.h"

namespace preimage::stats {

KsResult ks_test_normal(const std::vector<double>& x, double mu, double sigma, KsMethod method) {
  const char* where = "stats::ks_test_normal";
  detail::require_finite(x, where);
  std::ostringstream msg;
  msg << "the normal's sigma must be finite and positive, got " << sigma << " (mu = " << mu << ")";
  detail::require(std::isfinite(mu) && std::isfinite(sigma) && sigma > 0, where, msg.str());

  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double nd = static_cast<double>(n);
  double dplus = -INFINITY, dminus = -INFINITY;
  std::size_t iplus = 0, iminus = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (sorted[i] - mu) / sigma;
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));  // scipy.special.ndtr(z)
    const double up = static_cast<double>(i + 1) / nd - cdf;
    const double down = cdf - static_cast<double>(i) / nd;
    if (up > dplus) {  // first maximum, like numpy.argmax
      dplus = up;
      iplus = i;
    }
    if (down > dminus) {
      dminus = down;
      iminus = i;
    }
  }

  KsResult r;
  if (dplus > dminus) {
    r.statistic = dplus;
    r.location = sorted[iplus];
    r.sign = 1;
  } else {
    r.statistic = dminus;
    r.location = sorted[iminus];
    r.sign = -1;
  }
  if (method == KsMethod::kAsymptotic) {
    r.pvalue = kolmogorov_sf(r.statistic * std::sqrt(nd));
    r.method = "asymptotic (Kolmogorov limit)";
  } else if (r.statistic <= 0.5 / nd) {  // kstwo's support starts at 1/(2n)
    r.pvalue = 1.0;
    r.method = "exact (boundary)";
  } else {
    std::string how;
    r.pvalue = kolmogn_sf(static_cast<long>(n), r.statistic, &how);
    r.method = "exact: " + how;
  }
  r.pvalue = std::clamp(r.pvalue, 0.0, 1.0);
  return r;
}

KsResult ks_test_normal_fitted(const std::vector<double>& x, std::size_t ddof, KsMethod method) {
  detail::require_finite(x, "stats::ks_test_normal_fitted", ddof + 2);
  return ks_test_normal(x, mean(x), standard_deviation(x, ddof), method);
}

}  // namespace preimage::stats
