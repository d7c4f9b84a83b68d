#pragma once
// Internal: the algorithms behind kolmogn_cdf / kolmogn_sf (scipy/stats/_ksstats.py).
// Each returns the CDF P(D_n <= x); the dispatcher in kolmogn.cpp picks one.

namespace preimage::stats::detail {

// Durbin (1968) matrix algorithm as Marsaglia, Tsang & Wang (2003) compute it: the k-th diagonal
// entry of H^n, with n!/n^n applied and scaled powers of two to avoid under/overflow.
// Cost O(m^3 log n), m = 2 ceil(n x) - 1: for small n x. scipy's _kolmogn_DMTW.
double kolmogn_durbin_cdf(long n, double x);

// Pomeranz (1974) recursion, Algorithm 487. scipy's _kolmogn_Pomeranz.
double kolmogn_pomeranz_cdf(long n, double x);

// Pelz & Good (1976) asymptotic expansion in powers of 1/sqrt(n), for larger n.
// scipy's _kolmogn_PelzGood.
double kolmogn_pelz_good_cdf(long n, double x);

// log(n! / n^n) by Stirling's series (scipy's _log_nfactorial_div_n_pow_n).
double log_nfactorial_div_n_pow_n(long n);

}  // namespace preimage::stats::detail
