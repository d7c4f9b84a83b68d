#pragma once
// Distributions of the Kolmogorov-Smirnov statistics, ported from scipy 1.10.1:
//   kolmogn_*      exact two-sided D_n (scipy.stats.kstwo, scipy/stats/_ksstats.py), choosing
//                  between Ruben-Gambino closed forms, the Durbin matrix (Marsaglia-Tsang-Wang),
//                  the Pomeranz recursion, the Pelz-Good expansion and 2*smirnov as Simard &
//                  L'Ecuyer (2011) recommend;
//   smirnov_sf     exact one-sided D_n^+ (scipy.special.smirnov, Birnbaum-Tingey sum;
//                  scipy/special/cephes/kolmogorov.c);
//   kolmogorov_*   the limit of sqrt(n) D_n (scipy.special.kolmogorov / kstwobign).
// Golden tests: tests/stats/test_kolmogorov.cpp against tests/fixtures/stats/kolmogorov.json.
#include <string>

namespace preimage::stats {

// P(D_n <= x) and P(D_n > x) for the two-sided one-sample statistic D_n, n >= 1.
// scipy.stats.kstwo.cdf(x, n) / kstwo.sf(x, n). `method`, if given, receives the branch used.
double kolmogn_cdf(long n, double x, std::string* method = nullptr);
double kolmogn_sf(long n, double x, std::string* method = nullptr);

// P(D_n^+ >= x) for the one-sided statistic; scipy.special.smirnov(n, x).
double smirnov_sf(long n, double x);

// Limiting distribution K(z) = lim P(sqrt(n) D_n <= z): kolmogorov_sf is
// scipy.special.kolmogorov(z) = kstwobign.sf(z), kolmogorov_cdf is kstwobign.cdf(z).
double kolmogorov_sf(double z);
double kolmogorov_cdf(double z);

}  // namespace preimage::stats
