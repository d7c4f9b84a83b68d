#pragma once
// Summary of the Euclidean distances ||a_i - b_i|| between paired rows of two point sets, e.g.
// latent points before and after an inversion: (N, d) and (N, d) -> N distances.
#include <vector>

#include "stats/matrix.h"

namespace preimage::stats {

struct DistanceSummary {
  std::vector<double> distances;  // (N) the paired distances themselves
  double mean = 0.0;
  double variance = 0.0;  // ddof=1 (numpy.var(d, ddof=1)); 0 when N == 1
  double sem = 0.0;       // standard error of the mean, ddof=1 (scipy.stats.sem); 0 when N == 1
};

// Throws std::invalid_argument when the shapes differ, the sets are empty, or a value is NaN/inf.
DistanceSummary paired_distances(const Matrix& a, const Matrix& b);

}  // namespace preimage::stats
