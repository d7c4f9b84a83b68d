// Durbin matrix algorithm for P(D_n <= d) (Durbin 1968; Marsaglia, Tsang & Wang 2003,
// J. Stat. Softw. 8(18)), a line-by-line port of scipy 1.10.1's _kolmogn_DMTW.
#include <algorithm>
#include <cmath>
#include <vector>

#include "stats/kolmogn_methods.h"

namespace preimage::stats::detail {
namespace {

// Rescale by 2^128 whenever an entry leaves [2^-128, 2^128] (scipy's _E128).
constexpr int kScaleExponent = 128;
const double kBig = std::ldexp(1.0, kScaleExponent);
const double kSmall = std::ldexp(1.0, -kScaleExponent);

// (m, m) row-major product c = a b.
std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, int m) {
  std::vector<double> c(static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i)
    for (int l = 0; l < m; ++l) {
      const double ail = a[i * m + l];
      if (ail == 0.0) continue;
      for (int j = 0; j < m; ++j) c[i * m + j] += ail * b[l * m + j];
    }
  return c;
}

}  // namespace

double kolmogn_durbin_cdf(long n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  // d = (k - h) / n with k a positive integer and 0 <= h < 1.
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;

  // v: first column (and reversed last row) of H, v[j] = (1 - h^(j+1)) / (j+1)!; w[j] = 1/j!.
  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (int j = 1; j <= m; ++j) {
    w[j - 1] = fac;
    fac /= j;  // may underflow, harmlessly
    v[j - 1] = (1.0 - std::pow(h, j)) * fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;

  std::vector<double> H(static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 1; i < m; ++i)
    for (int r = i - 1; r < m; ++r) H[r * m + i] = w[r - (i - 1)];
  for (int r = 0; r < m; ++r) H[r * m + 0] = v[r];
  for (int c = 0; c < m; ++c) H[(m - 1) * m + c] = v[m - 1 - c];

  // Hpwr = H^n by repeated squaring, with separate power-of-two exponents.
  std::vector<double> Hpwr(static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) Hpwr[i * m + i] = 1.0;
  long nn = n;
  long expnt = 0, Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (std::abs(H[(k - 1) * m + (k - 1)]) > kBig) {
      for (double& e : H) e /= kBig;
      Hexpnt += kScaleExponent;
    }
    nn /= 2;
  }

  double p = Hpwr[(k - 1) * m + (k - 1)];
  for (long i = 1; i <= n; ++i) {  // multiply by n! / n^n
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::abs(p) < kSmall) {
      p *= kBig;
      expnt -= kScaleExponent;
    }
  }
  if (expnt != 0) p = std::ldexp(p, static_cast<int>(expnt));
  return p;
}

}  // namespace preimage::stats::detail
