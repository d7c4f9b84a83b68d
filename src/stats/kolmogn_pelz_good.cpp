// Pelz & Good (1976) approximation of P(D_n <= x) (J. R. Statist. Soc. B 38(2), 152-156):
// the Li-Chien / Korolyuk expansion K0 + K1/sqrt(n) + K2/n + K3/n^1.5 in z = sqrt(n) x, each
// K_i rewritten through Jacobi-theta identities so it converges for small z. Port of scipy
// 1.10.1's _kolmogn_PelzGood, including its log(n!/n^n) helper.
#include <array>
#include <cmath>

#include "stats/kolmogn_methods.h"

namespace preimage::stats::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;
const double kSqrt2Pi = std::sqrt(2 * kPi);
const double kLog2Pi = std::log(2 * kPi);
const double kSqrt3 = std::sqrt(3.0);
const double kPiSquared = kPi * kPi;
const double kPiFour = std::pow(kPi, 4);
const double kPiSix = std::pow(kPi, 6);
// Below this log(q) the sums underflow: P(D_n <= x) = 0 (z < ~0.0417). scipy's _MIN_LOG.
constexpr double kMinLog = -708;

// Stirling series coefficients B_2j / (2j (2j-1)), j = 8..1 (scipy's _STIRLING_COEFFS).
constexpr std::array<double, 8> kStirling = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                             -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                             -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                             -2.7777777777777777778e-3, 8.3333333333333333333e-2};

}  // namespace

double log_nfactorial_div_n_pow_n(long n) {
  // log(n!/n^n) = log(n)/2 - n + log(sqrt(2 pi)) + sum_j B_2j / (2j (2j-1)) / n^(2j-1)
  const double nd = static_cast<double>(n);
  const double rn = 1.0 / nd;
  double poly = 0.0;  // numpy.polyval(kStirling, rn / n), Horner
  for (double c : kStirling) poly = poly * (rn / nd) + c;
  return std::log(nd) / 2 - nd + kLog2Pi / 2 + rn * poly;
}

double kolmogn_pelz_good_cdf(long n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double nd = static_cast<double>(n);
  const double z = std::sqrt(nd) * x;
  const double z2 = z * z, z3 = z * z * z, z4 = z2 * z2, z6 = z4 * z2;

  const double qlog = -kPiSquared / 8 / z2;
  if (qlog < kMinLog) return 0.0;
  double q = std::exp(qlog);

  // Coefficients of the terms of K1, K2, K3 in the sums over odd integers.
  const double k1a = -z2, k1b = kPiSquared / 4;
  const double k2a = 6 * z6 + 2 * z4;
  const double k2b = (2 * z4 - 5 * z2) * kPiSquared / 4;
  const double k2c = kPiFour * (1 - 2 * z2) / 16;
  const double k3d = kPiSix * (5 - 30 * z2) / 64;
  const double k3c = kPiFour * (-60 * z2 + 212 * z4) / 16;
  const double k3b = kPiSquared * (135 * z4 - 96 * z6) / 4;
  const double k3a = -30 * z6 - 90 * std::pow(z, 8);

  std::array<double, 4> K = {0, 0, 0, 0};
  // Horner scheme for sum_k c_k q^((2k-1)^2), over k = maxk..1.
  const long maxk = static_cast<long>(std::ceil(16 * z / kPi));
  for (long k = maxk; k > 0; --k) {
    const double m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = std::pow(m, 4), m6 = std::pow(m, 6);
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const std::array<double, 4> coeffs = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                                          k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) K[i] = K[i] * qpower + coeffs[i];
  }
  const std::array<double, 4> denom = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) K[i] = K[i] * q * kSqrt2Pi / denom[i];

  // The remaining sums over all integers k for K2 and K3 (no cancellation: direct).
  q = std::exp(-kPiSquared / 2 / z2);
  double k2extra = 0.0, k3extra = 0.0;
  const double sqrt3z = kSqrt3 * z;
  for (long k = maxk; k > 0; --k) {
    const double kd = static_cast<double>(k);
    const double k2 = kd * kd;
    const double qp = std::pow(q, k2);
    const double kspi = kPi * kd;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp;
  }
  K[2] += k2extra * kPiSquared * kSqrt2Pi / (-36 * z3);
  K[3] += k3extra * kPiSquared * kSqrt2Pi / (216 * z6);
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) sum += K[i] / std::pow(nd, i / 2.0);
  return sum;
}

}  // namespace preimage::stats::detail
