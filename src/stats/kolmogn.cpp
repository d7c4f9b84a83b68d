// Two-sided one-sample Kolmogorov-Smirnov distribution P(D_n <= x), with the algorithm choices of
// Simard & L'Ecuyer (2011, J. Stat. Softw. 39(11)) exactly as scipy 1.10.1's _kolmogn makes them
// (scipy/stats/_ksstats.py). The CDF and SF use different cut-offs, as in scipy, so the SF keeps
// full relative precision in the upper tail.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "stats/kolmogn_methods.h"
#include "stats/kolmogorov.h"

namespace preimage::stats {
namespace {

// Largest n for which the Ruben-Gambino product and the exact methods run directly.
constexpr long kSmallN = 140;
// Largest n for which the Durbin matrix is used when n x^1.5 is small.
constexpr long kDurbinMaxN = 100000;
// n <= 140: Durbin matrix up to this n x^2, then Pomeranz up to kPomeranzMaxNx2, then 2*smirnov.
constexpr double kDurbinMaxNx2 = 0.754693;
constexpr double kPomeranzMaxNx2 = 4.0;
// n > 140, SF: 0 above this n x^2, 2*smirnov above kSmirnovMinNx2.
constexpr double kZeroSfNx2 = 370.0;
constexpr double kSmirnovMinNx2 = 2.2;
// n > 140, CDF: 1 above this n x^2.
constexpr double kOneCdfNx2 = 18.0;
// n > 140: Durbin matrix when n x^1.5 <= this, Pelz-Good otherwise.
constexpr double kDurbinMaxNx15 = 1.4;

struct Choice {
  double value;
  const char* method;
};

Choice select(bool cdf, double cdfprob, double sfprob, const char* method) {
  return {std::clamp(cdf ? cdfprob : sfprob, 0.0, 1.0), method};
}

Choice kolmogn(long n, double x, bool cdf) {
  if (n <= 0) {
    std::ostringstream msg;
    msg << "stats::kolmogn: sample size n must be positive, got " << n;
    throw std::invalid_argument(msg.str());
  }
  if (std::isnan(x)) return {x, "nan"};
  if (x >= 1.0) return select(cdf, 1.0, 0.0, "boundary");
  if (x <= 0.0) return select(cdf, 0.0, 1.0, "boundary");
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  if (t <= 1.0) {  // Ruben-Gambino: 1/(2n) <= x <= 1/n
    if (t <= 0.5) return select(cdf, 0.0, 1.0, "boundary");
    double prob = 0.0;
    if (n <= kSmallN) {
      prob = 1.0;
      for (long i = 1; i <= n; ++i) prob *= static_cast<double>(i) * (1.0 / nd) * (2 * t - 1);
    } else {
      prob = std::exp(detail::log_nfactorial_div_n_pow_n(n) + nd * std::log(2 * t - 1));
    }
    return select(cdf, prob, 1.0 - prob, "Ruben-Gambino");
  }
  if (t >= nd - 1) {  // Ruben-Gambino
    const double prob = 2 * std::pow(1.0 - x, nd);
    return select(cdf, 1 - prob, prob, "Ruben-Gambino");
  }
  if (x >= 0.5) {  // exact: the one-sided tails cannot both be crossed
    const double prob = 2 * smirnov_sf(n, x);
    return select(cdf, 1.0 - prob, prob, "2*smirnov (exact)");
  }

  const double nxsquared = t * x;
  if (n <= kSmallN) {
    if (nxsquared <= kDurbinMaxNx2) {
      const double prob = detail::kolmogn_durbin_cdf(n, x);
      return select(cdf, prob, 1.0 - prob, "exact (Durbin matrix)");
    }
    if (nxsquared <= kPomeranzMaxNx2) {
      const double prob = detail::kolmogn_pomeranz_cdf(n, x);
      return select(cdf, prob, 1.0 - prob, "exact (Pomeranz)");
    }
    const double prob = 2 * smirnov_sf(n, x);  // Miller's approximation
    return select(cdf, 1.0 - prob, prob, "2*smirnov (Miller)");
  }

  if (!cdf) {
    if (nxsquared >= kZeroSfNx2) return {0.0, "underflow"};
    if (nxsquared >= kSmirnovMinNx2) {
      return {std::clamp(2 * smirnov_sf(n, x), 0.0, 1.0), "2*smirnov (Miller)"};
    }
  }
  double cdfprob = 1.0;
  const char* method = "boundary";
  if (nxsquared >= kOneCdfNx2) {
    cdfprob = 1.0;
  } else if (n <= kDurbinMaxN && nd * std::pow(x, 1.5) <= kDurbinMaxNx15) {
    cdfprob = detail::kolmogn_durbin_cdf(n, x);
    method = "exact (Durbin matrix)";
  } else {
    cdfprob = detail::kolmogn_pelz_good_cdf(n, x);
    method = "Pelz-Good";
  }
  return select(cdf, cdfprob, 1.0 - cdfprob, method);
}

}  // namespace

double kolmogn_cdf(long n, double x, std::string* method) {
  const Choice c = kolmogn(n, x, /*cdf=*/true);
  if (method) *method = c.method;
  return c.value;
}

double kolmogn_sf(long n, double x, std::string* method) {
  const Choice c = kolmogn(n, x, /*cdf=*/false);
  if (method) *method = c.method;
  return c.value;
}

}  // namespace preimage::stats
