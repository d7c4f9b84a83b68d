// One-sided Smirnov distribution P(D_n^+ >= x), ported from scipy/special/cephes/kolmogorov.c
// (_smirnov3, van Mulbregt 2018, arXiv:1802.06966). scipy sums the Birnbaum-Tingey series
//   P(D_n^+ >= x) = x * sum_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)
// in double-double arithmetic; we sum the same terms, with the same branch and early-stop rules,
// in x87 long double (64-bit mantissa) with each term computed through its logarithm. The terms
// are positive, so this keeps ~15 significant digits, plenty for the 1e-4 p-value goldens.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "stats/kolmogorov.h"

namespace preimage::stats {
namespace {

// exp() of anything below this underflows (cephes MINLOG = log(2^-1075)).
constexpr double kMinLog = -7.451332191019412076235E2;
// Above this n scipy switches to Miller's approximation (cephes SMIRNOV_MAX_COMPUTE_N).
constexpr long kMaxComputeN = 1000000;
// Use the alternating "upper" sum only when it has at most this many terms ...
constexpr long kUpperMaxTerms = 3;
// ... and n is at least this large (cephes SM_UPPER_MAX_TERMS, SM_UPPERSUM_MIN_N).
constexpr long kUpperSumMinN = 10;

using Real = long double;

// log C(n, v)
Real log_binomial(long n, long v) {
  return std::lgamma(static_cast<Real>(n) + 1) - std::lgamma(static_cast<Real>(v) + 1) -
         std::lgamma(static_cast<Real>(n - v) + 1);
}

// floor(n x) and its fractional part alpha, exactly (scipy's modNX, via an FMA error term).
void floor_nx(long n, double x, long* nxfl, double* alpha) {
  const double nd = static_cast<double>(n);
  const double hi = nd * x;
  const double lo = std::fma(nd, x, -hi);  // n x = hi + lo exactly
  double fl = std::floor(hi);
  double a = (hi - fl) + lo;
  if (a < 0) {
    fl -= 1;
    a += 1;
  }
  if (a >= 1) {
    fl += 1;
    a = 0;
  }
  *nxfl = static_cast<long>(fl);
  *alpha = a;
}

}  // namespace

double smirnov_sf(long n, double x) {
  if (!(n > 0 && x >= 0.0 && x <= 1.0)) return std::nan("");
  if (n == 1) return 1 - x;
  if (x == 0.0) return 1.0;
  if (x == 1.0) return 0.0;

  long nxfl = 0;
  double alpha = 0.0;
  floor_nx(n, x, &nxfl, &alpha);
  long n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
  long n1mxceil = n - nxfl;
  if (alpha == 0) {  // the last term of either sum is zero: leave it out
    n1mxfl -= 1;
    n1mxceil += 1;
  }

  if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {  // x <= 1/n: cdf = x (1 + x)^(n-1)
    const Real cdf = x * std::pow(1 + static_cast<Real>(x), static_cast<Real>(n - 1));
    return std::clamp(static_cast<double>(1 - cdf), 0.0, 1.0);
  }
  if (-2 * n * x * x < kMinLog) return 0.0;  // sf underflows
  if (nxfl >= n - 1) {                       // x >= 1 - 1/n: sf = (1 - x)^n
    return static_cast<double>(std::pow(1 - static_cast<Real>(x), static_cast<Real>(n)));
  }
  if (n > kMaxComputeN) {  // Miller: p ~ exp(-(6 n x + 1)^2 / (18 n))
    return std::exp(-std::pow(6.0 * n * x + 1.0, 2) / 18.0 / n);
  }

  const long n_upper_terms = n - n1mxceil + 1;
  const bool use_upper =
      (n_upper_terms <= 1 && x < 0.5) || (n >= kUpperSumMinN && n_upper_terms <= kUpperMaxTerms &&
                                          x <= 0.5 / std::sqrt(static_cast<double>(n)));
  const Real xl = x;
  const Real nl = static_cast<Real>(n);
  Real sum = 0;
  if (use_upper) {
    // cdf = x * sum_{v=n}^{n1mxceil} A_v; here 1 - x - v/n < 0 so the terms alternate in sign.
    for (long j = 0; j < n_upper_terms; ++j) {
      const long v = n - j;
      const Real t1x = static_cast<Real>(v) / nl + xl;      // x + v/n
      const Real t2x = static_cast<Real>(n - v) / nl - xl;  // 1 - x - v/n
      Real term = std::exp(log_binomial(n, v)) * std::pow(t1x, static_cast<Real>(v - 1));
      term *= std::pow(t2x, static_cast<Real>(n - v));
      sum += term;
    }
    const double cdf = static_cast<double>(xl * sum);
    return std::clamp(1 - cdf, 0.0, 1.0);
  }

  // sf = x * sum_{v=0}^{n1mxfl} A_v, all terms positive.
  const long n_terms = n1mxfl + 1;
  const long vmid = n / 2;
  sum = std::pow(1 - xl, nl) / xl;  // A_0 = (1 - x)^n / x
  const Real log_n_fact = std::lgamma(nl + 1);
  for (long j = 1; j < n_terms; ++j) {
    const long v = j;
    const Real t1x = static_cast<Real>(v) / nl + xl;
    const Real t2x = static_cast<Real>(n - v) / nl - xl;
    Real term = 0;
    if (t2x > 0) {
      const Real log_term = log_n_fact - std::lgamma(static_cast<Real>(v) + 1) -
                            std::lgamma(static_cast<Real>(n - v) + 1) +
                            static_cast<Real>(v - 1) * std::log(t1x) +
                            static_cast<Real>(n - v) * std::log(t2x);
      term = std::exp(log_term);
      // scipy's terms live in double range: anything below the smallest double is dropped.
      if (term < DBL_MIN * DBL_EPSILON) term = 0;
    }
    sum += term;
    if (term != 0) {  // stop once the remaining terms cannot change the sum
      if (4 * static_cast<Real>(n_terms - j) * term < DBL_EPSILON * sum && j != n_terms - 1) break;
    } else if (j > vmid) {
      break;
    }
  }
  return std::clamp(static_cast<double>(xl * sum), 0.0, 1.0);
}

}  // namespace preimage::stats
