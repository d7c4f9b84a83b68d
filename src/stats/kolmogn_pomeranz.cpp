// Pomeranz (1974) recursion for P(D_n <= x) (Comm. ACM 17(12), Algorithm 487), a port of
// scipy 1.10.1's _kolmogn_Pomeranz: rows of an n x (2n+2) table, each the convolution of the
// previous row with (almost) Poisson probabilities; only two rows and their non-zero windows kept.
#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "stats/kolmogn_methods.h"

namespace preimage::stats::detail {
namespace {

// Rescale rows by 2^128 when they drop below 2^-128 (scipy's _E128).
constexpr int kScaleExponent = 128;
const double kBig = std::ldexp(1.0, kScaleExponent);
const double kSmall = std::ldexp(1.0, -kScaleExponent);

// Window [j1, j2] of possibly non-zero entries of row i (scipy's _pomeranz_compute_j1j2).
std::pair<long, long> row_window(long i, long n, long ll, long ceilf, long roundf) {
  long j1 = 0, j2 = 0;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const long ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
    if (ip1mod2 == 0) {  // i odd
      if (ip1div2 == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return {std::max(j1 + 2, 0L), std::min(j2, n)};
}

}  // namespace

double kolmogn_pomeranz_cdf(long n, double x) {
  const double t = static_cast<double>(n) * x;
  const long ll = static_cast<long>(std::floor(t));
  const double f = t - static_cast<double>(ll);  // fractional part of t
  const double g = std::min(f, 1.0 - f);
  const long ceilf = f > 0 ? 1 : 0;
  const long roundf = f > 0.5 ? 1 : 0;
  const long npwrs = 2 * (ll + 1);  // most powers any convolution needs

  // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: Poisson probabilities without the normalisation.
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double nd = static_cast<double>(n);
  const double g_over_n = g / nd, two_g_over_n = 2 * g / nd,
               one_minus_two_g_over_n = (1 - 2 * g) / nd;
  for (long m = 1; m < npwrs; ++m) {
    gpower[m] = gpower[m - 1] * g_over_n / static_cast<double>(m);
    twogpower[m] = twogpower[m - 1] * two_g_over_n / static_cast<double>(m);
    onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / static_cast<double>(m);
  }

  std::vector<double> V0(npwrs, 0.0), V1(npwrs, 0.0);
  V1[0] = 1.0;
  long V0s = 0, V1s = 0;  // column index of the first stored entry of each row
  long expnt = 0;
  auto [j1, j2] = row_window(0, n, ll, ceilf, roundf);
  for (long i = 1; i < 2 * n + 2; ++i) {
    const long k1 = j1;
    std::swap(V0, V1);
    std::swap(V0s, V1s);
    std::fill(V1.begin(), V1.end(), 0.0);
    std::tie(j1, j2) = row_window(i, n, ll, ceilf, roundf);
    const std::vector<double>& pwrs =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 ? twogpower : onem2gpower);
    const long ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = numpy.convolve(V0[k1 - V0s : k1 - V0s + ln2], pwrs[:ln2]); keep entries
      // [j1 - k1, j2 - k1].
      const long a0 = k1 - V0s;
      const long alen = std::min(ln2, npwrs - a0);  // numpy slicing stops at the array's end
      const long conv_start = j1 - k1;
      const long conv_len = j2 - j1 + 1;
      double vmax = 0.0;
      for (long c = 0; c < conv_len; ++c) {
        const long kk = conv_start + c;
        double s = 0.0;
        for (long j = std::max(0L, kk - ln2 + 1); j <= std::min(kk, alen - 1); ++j)
          s += V0[a0 + j] * pwrs[kk - j];
        V1[c] = s;
        vmax = std::max(vmax, s);
      }
      if (vmax > 0 && vmax < kSmall) {  // scale to avoid underflow
        for (double& e : V1) e *= kBig;
        expnt -= kScaleExponent;
      }
      V1s = V0s + j1 - k1;
    }
  }

  double ans = V1[n - V1s];
  for (long m = 1; m <= n; ++m) {  // multiply by n!
    if (std::abs(ans) > kBig) {
      ans *= kSmall;
      expnt += kScaleExponent;
    }
    ans *= static_cast<double>(m);
  }
  if (expnt != 0) ans = std::ldexp(ans, static_cast<int>(expnt));
  return ans;
}

}  // namespace preimage::stats::detail
