#pragma once
// Normality of a latent space (thesis section 3.5), tested the thesis's way and more soundly:
//   - Kolmogorov-Smirnov on the radius r_i = ||y_i|| (sqrt(x^2 + y^2) for L = 2) against a normal
//     with the sample's mean and standard deviation (ddof=0), p-value from the exact distribution
//     of D_n as scipy.stats.kstest computes it (the thesis's test);
//   - the same statistic with the Lilliefors-corrected p-value (the parameters were estimated, so
//     the plain KS p-value is far too large);
//   - Shapiro-Wilk (scipy's swilk) on the flattened points [x_1, y_1, x_2, y_2, ...] (the thesis's);
//   - two genuinely multivariate tests of the points: Mardia's skewness and kurtosis, Henze-Zirkler.
// The radius of a 2-D standard normal is Rayleigh-distributed, not normal: the KS test of the
// radius rejects for a perfectly normal latent space too (docs/ANALYSIS.md).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace preimage::analysis {

// Radii ||y_i||, (N) float64, of latents (N, L).
torch::Tensor radii(const torch::Tensor& latents);

// {"radius_ks", "radius_lilliefors", "shapiro_wilk", "mardia", "henze_zirkler"}; a test that
// cannot run on these points (too few, singular covariance) gives {"error": why}. Henze-Zirkler
// costs O(n^2): it uses the first `henze_zirkler_max_points` rows (recorded as "points").
nlohmann::json normality_tests(const torch::Tensor& latents, int64_t henze_zirkler_max_points);

}  // namespace preimage::analysis
