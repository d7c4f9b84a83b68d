// Port of scipy/stats/statlib/swilk.f (AS R94 with AS 111 PPND, AS 181.2 POLY and AS 66 ALNORM)
// for the uncensored case N1 = N that scipy.stats.shapiro uses. Variables keep the Fortran names
// and every REAL is a C++ float, with the same operation order, so the results are bit-identical
// to scipy's on x86-64 (both call glibc's logf/expf/sqrtf/asinf).
#include "stats/shapiro_wilk.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "stats/validate.h"

namespace preimage::stats {
namespace {

// POLY (AS 181.2): c[0] + c[1] x + ... + c[nord-1] x^(nord-1), evaluated in Fortran's order.
float poly(const float* c, int nord, float x) {
  float result = c[0];
  if (nord == 1) return result;
  float p = x * c[nord - 1];
  if (nord != 2) {
    int j = nord - 2;  // Fortran J = N2 + 1, 1-based
    for (int i = 1; i <= nord - 2; ++i) {
      p = (p + c[j]) * x;
      --j;
    }
  }
  return result + p;
}

// PPND (AS 111, single precision): the normal quantile of lower-tail probability p.
float ppnd(float p) {
  const float split = 0.42f;
  const float a0 = 2.50662823884f, a1 = -18.61500062529f, a2 = 41.39119773534f,
              a3 = -25.44106049637f;
  const float b1 = -8.47351093090f, b2 = 23.08336743743f, b3 = -21.06224101826f,
              b4 = 3.13082909833f;
  const float c0 = -2.78718931138f, c1 = -2.29796479134f, c2 = 4.85014127135f, c3 = 2.32121276858f;
  const float d1 = 3.54388924762f, d2 = 1.63706781897f;
  const float q = p - 0.5f;
  if (std::fabs(q) <= split) {
    const float r = q * q;
    return q * (((a3 * r + a2) * r + a1) * r + a0) /
           ((((b4 * r + b3) * r + b2) * r + b1) * r + 1.0f);
  }
  float r = p;
  if (q > 0.0f) r = 1.0f - p;
  if (r <= 0.0f) return 0.0f;
  r = std::sqrt(-std::log(r));
  float value = (((c3 * r + c2) * r + c1) * r + c0) / ((d2 * r + d1) * r + 1.0f);
  return q < 0.0f ? -value : value;
}

// ALNORM (AS 66, double precision): upper (or lower) tail area of the standard normal.
double alnorm(double x, bool upper) {
  const double ltone = 7.0, utzero = 38.0, con = 1.28;  // range limits of the two expansions
  const double a1 = 0.398942280444, a2 = 0.399903438504, a3 = 5.75885480458, a4 = 29.8213557808,
               a5 = 2.62433121679, a6 = 48.6959930692, a7 = 5.92885724438;
  const double b1 = 0.398942280385, b2 = 3.8052e-8, b3 = 1.00000615302, b4 = 3.98064794e-4,
               b5 = 1.98615381364, b6 = 0.151679116635, b7 = 5.29330324926, b8 = 4.8385912808,
               b9 = 15.1508972451, b10 = 0.742380924027, b11 = 30.789933034, b12 = 3.99019417011;
  bool up = upper;
  double z = x;
  if (z < 0.0) {
    up = !up;
    z = -z;
  }
  double value = 0.0;
  if (z <= ltone || (up && z <= utzero)) {
    const double y = 0.5 * z * z;
    if (z > con) {
      value = b1 * std::exp(-y) /
              (z - b2 +
               b3 / (z + b4 + b5 / (z - b6 + b7 / (z + b8 - b9 / (z + b10 + b11 / (z + b12))))));
    } else {
      value = 0.5 - z * (a1 - a2 * y / (y + a3 - a4 / (y + a5 + a6 / (y + a7))));
    }
  }
  return up ? value : 1.0 - value;
}

// Fortran SIGN(1, k) * a for integer k.
float signed_coeff(int k, float a) {
  return k >= 0 ? a : -a;
}

}  // namespace

ShapiroResult shapiro_wilk(const std::vector<double>& input) {
  detail::require_finite(input, "stats::shapiro_wilk", 3);
  // scipy: x = x - median(x) in double, sort, then cast to float32 for swilk.
  std::vector<double> xd = input;
  std::sort(xd.begin(), xd.end());
  const std::size_t nn = xd.size();
  const double median = nn % 2 ? xd[nn / 2] : (xd[nn / 2 - 1] + xd[nn / 2]) / 2.0;
  std::vector<float> x(nn);
  for (std::size_t i = 0; i < nn; ++i) x[i] = static_cast<float>(xd[i] - median);

  // Constants of AS R94 (REAL in the Fortran source).
  const float c1[6] = {0.0f, 0.221157f, -0.147981f, -0.207119e1f, 0.4434685e1f, -0.2706056e1f};
  const float c2[6] = {0.0f, 0.42981e-1f, -0.293762f, -0.1752461e1f, 0.5682633e1f, -0.3582633e1f};
  const float c3[4] = {0.5440f, -0.39978f, 0.25054e-1f, -0.6714e-3f};
  const float c4[4] = {0.13822e1f, -0.77857f, 0.62767e-1f, -0.20322e-2f};
  const float c5[4] = {-0.15861e1f, -0.31082f, -0.83751e-1f, 0.38915e-2f};
  const float c6[3] = {-0.4803f, -0.82676e-1f, 0.30302e-2f};
  const float g[2] = {-0.2273e1f, 0.459f};
  const float small = 1e-19f;    // zero-range threshold
  const float sqrth = 0.70711f;  // a_1 for n = 3
  const float qtr = 0.25f, th = 0.375f;
  const float pi6 = 0.1909859e1f;   // 6 / pi, exact p-value for n = 3
  const float stqr = 0.1047198e1f;  // pi / 3

  const int n = static_cast<int>(nn);
  const int nn2 = n / 2;
  const float an = static_cast<float>(n);
  ShapiroResult result;
  result.method = "Royston AS R94 (float32, as scipy)";
  result.pvalue_may_be_inaccurate = nn > kShapiroMaxValidN;

  // Coefficients a_1..a_{n/2} (Fortran A(1..N2)).
  std::vector<float> a(std::max(nn2, 1));
  if (n == 3) {
    a[0] = sqrth;
  } else {
    const float an25 = an + qtr;
    float summ2 = 0.0f;
    for (int i = 1; i <= nn2; ++i) {
      a[i - 1] = ppnd((static_cast<float>(i) - th) / an25);
      summ2 = summ2 + a[i - 1] * a[i - 1];
    }
    summ2 = summ2 * 2.0f;
    const float ssumm2 = std::sqrt(summ2);
    const float rsn = 1.0f / std::sqrt(an);
    const float a1 = poly(c1, 6, rsn) - a[0] / ssumm2;
    int i1 = 0;
    float fac = 0.0f;
    if (n > 5) {
      i1 = 3;
      const float a2 = -a[1] / ssumm2 + poly(c2, 6, rsn);
      fac = std::sqrt((summ2 - 2.0f * (a[0] * a[0]) - 2.0f * (a[1] * a[1])) /
                      (1.0f - 2.0f * (a1 * a1) - 2.0f * (a2 * a2)));
      a[0] = a1;
      a[1] = a2;
    } else {
      i1 = 2;
      fac = std::sqrt((summ2 - 2.0f * (a[0] * a[0])) / (1.0f - 2.0f * (a1 * a1)));
      a[0] = a1;
    }
    for (int i = i1; i <= nn2; ++i) a[i - 1] = -a[i - 1] / fac;
  }

  // Zero range: scipy returns W = 1, p = 1 (PW and W keep their initial values).
  const float range = x[n - 1] - x[0];
  if (range < small) {
    result.statistic = 1.0;
    result.pvalue = 1.0;
    result.zero_range = true;
    return result;
  }

  // Means of the scaled data and of the antisymmetric coefficient vector.
  float xx = x[0] / range;
  float sx = xx;
  float sa = -a[0];
  for (int i = 2, j = n - 1; i <= n; ++i, --j) {
    const float xi = x[i - 1] / range;
    sx = sx + xi;
    if (i != j) sa = sa + signed_coeff(i - j, a[std::min(i, j) - 1]);
    xx = xi;
  }
  sa = sa / static_cast<float>(n);
  sx = sx / static_cast<float>(n);
  // W as the squared correlation between data and coefficients.
  float ssa = 0.0f, ssx = 0.0f, sax = 0.0f;
  for (int i = 1, j = n; i <= n; ++i, --j) {
    const float asa = (i != j) ? signed_coeff(i - j, a[std::min(i, j) - 1]) - sa : -sa;
    const float xsx = x[i - 1] / range - sx;
    ssa = ssa + asa * asa;
    ssx = ssx + xsx * xsx;
    sax = sax + asa * xsx;
  }
  // w1 = 1 - W, computed this way to avoid rounding error for W near 1.
  const float ssassx = std::sqrt(ssa * ssx);
  const float w1 = (ssassx - sax) * (ssassx + sax) / (ssa * ssx);
  const float w = 1.0f - w1;
  result.statistic = w;

  if (n == 3) {  // exact
    const float pw = pi6 * (std::asin(std::sqrt(w)) - stqr);
    result.pvalue = pw;
    return result;
  }
  float y = std::log(w1);
  const float lxx = std::log(an);
  float m = 0.0f, s = 1.0f;
  if (n <= 11) {
    const float gamma = poly(g, 2, an);
    if (y >= gamma) {
      result.pvalue = small;  // Fortran returns PW = SMALL = 1e-19
      return result;
    }
    y = -std::log(gamma - y);
    m = poly(c3, 4, an);
    s = std::exp(poly(c4, 4, an));
  } else {
    m = poly(c5, 4, lxx);
    s = std::exp(poly(c6, 3, lxx));
  }
  const float pw = static_cast<float>(alnorm(static_cast<double>((y - m) / s), /*upper=*/true));
  result.pvalue = pw;
  return result;
}

}  // namespace preimage::stats
