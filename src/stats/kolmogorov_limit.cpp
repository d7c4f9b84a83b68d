// Kolmogorov's limiting distribution, ported from scipy/special/cephes/kolmogorov.c
// (_kolmogorov, van Mulbregt 2018, arXiv:1803.00426): two Jacobi-theta series, one for small z
// and one for large z, each truncated after the terms that can still change a double.
#include <algorithm>
#include <cmath>

#include "stats/kolmogorov.h"

namespace preimage::stats {
namespace {

// Switch between the small-z and large-z series (cephes KOLMOG_CUTOVER).
constexpr double kCutover = 0.82;
// exp() of anything below this is 0 in double precision (cephes MIN_EXPABLE = -708 - 38).
constexpr double kMinExpable = -708.0 - 38.0;
constexpr double kPi = 3.14159265358979323846;

struct Probs {
  double sf, cdf;
};

Probs kolmogorov_probs(double x) {
  if (std::isnan(x)) return {x, x};
  // Below ~0.0406 the first term of the small-z series underflows: K(x) = 0.
  if (x <= 0 || x <= kPi / std::sqrt(-kMinExpable * 8)) return {1.0, 0.0};
  double P = 1.0, sf = 0.0, cdf = 0.0;
  if (x <= kCutover) {
    // P = w u (1 + u^8 + u^24 + u^48 + ...), u = exp(-pi^2 / (8 x^2)), w = sqrt(2 pi) / x
    const double w = std::sqrt(2 * kPi) / x;
    const double logu8 = -kPi * kPi / (x * x);
    const double u = std::exp(logu8 / 8);
    if (u == 0) {
      P = std::exp(logu8 / 8 + std::log(w));
    } else {
      const double u8 = std::exp(logu8);
      const double u8cub = std::pow(u8, 3);
      P = 1 + u8cub * P;
      P = 1 + u8 * u8 * P;
      P = 1 + u8 * P;
      P = w * u * P;
    }
    cdf = P;
    sf = 1 - P;
  } else {
    // P = 2 (v - v^4 + v^9 - v^16 + ...), v = exp(-2 x^2); four terms suffice above the cutover.
    const double v = std::exp(-2 * x * x);
    const double vsq = v * v;
    const double v3 = std::pow(v, 3);
    double vpwr = v3 * v3 * v;
    P = 1 - vpwr * P;
    vpwr = v3 * vsq;
    P = 1 - vpwr * P;
    vpwr = v3;
    P = 1 - vpwr * P;
    sf = 2 * v * P;
    cdf = 1 - sf;
  }
  return {std::clamp(sf, 0.0, 1.0), std::clamp(cdf, 0.0, 1.0)};
}

}  // namespace

double kolmogorov_sf(double z) {
  return kolmogorov_probs(z).sf;
}
double kolmogorov_cdf(double z) {
  return kolmogorov_probs(z).cdf;
}

}  // namespace preimage::stats
