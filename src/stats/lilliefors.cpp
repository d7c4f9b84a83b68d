#include "stats/lilliefors.h"

#include <algorithm>
#include <cmath>

#include "stats/ks_test.h"
#include "stats/validate.h"

namespace preimage::stats {
namespace {

// Largest n of the Dallal-Wilkinson fit; beyond it D is rescaled by (n / 100)^0.49.
constexpr double kMaxFittedN = 100.0;
constexpr double kLargeNExponent = 0.49;
// statsmodels refuses fewer observations for dist='norm'.
constexpr std::size_t kMinObservations = 4;

}  // namespace

double dallal_wilkinson_pvalue(double d, std::size_t n_obs) {
  double n = static_cast<double>(n_obs);
  if (n > kMaxFittedN) {
    d *= std::pow(n / kMaxFittedN, kLargeNExponent);
    n = kMaxFittedN;
  }
  return std::exp(-7.01256 * d * d * (n + 2.78019) + 2.99587 * d * std::sqrt(n + 2.78019) -
                  0.122119 + 0.974598 / std::sqrt(n) + 1.67997 / n);
}

LillieforsResult lilliefors_normal(const std::vector<double>& x) {
  detail::require_finite(x, "stats::lilliefors_normal", kMinObservations);
  const KsResult ks = ks_test_normal_fitted(x, /*ddof=*/1);
  LillieforsResult r;
  r.statistic = ks.statistic;
  r.pvalue = dallal_wilkinson_pvalue(ks.statistic, x.size());
  r.pvalue_in_valid_range = r.pvalue <= kDallalWilkinsonMaxP;
  r.method = r.pvalue_in_valid_range ? "Dallal-Wilkinson" : "Dallal-Wilkinson (outside p<=0.1)";
  r.pvalue = std::min(r.pvalue, 1.0);
  return r;
}

}  // namespace preimage::stats
