#include "stats/distances.h"

#include <cmath>
#include <sstream>

#include "stats/descriptive.h"
#include "stats/validate.h"

namespace preimage::stats {

DistanceSummary paired_distances(const Matrix& a, const Matrix& b) {
  const char* where = "stats::paired_distances";
  std::ostringstream shapes;
  shapes << "point sets must have the same non-empty shape, got (" << a.rows << ", " << a.cols
         << ") and (" << b.rows << ", " << b.cols << ")";
  detail::require(a.rows == b.rows && a.cols == b.cols && a.rows > 0 && a.cols > 0, where,
                  shapes.str());
  detail::require_finite(a.data, where, 1, "first point set");
  detail::require_finite(b.data, where, 1, "second point set");

  DistanceSummary s;
  s.distances.resize(a.rows);
  for (std::size_t r = 0; r < a.rows; ++r) {
    double ss = 0.0;
    for (std::size_t c = 0; c < a.cols; ++c) ss += (a(r, c) - b(r, c)) * (a(r, c) - b(r, c));
    s.distances[r] = std::sqrt(ss);
  }
  s.mean = mean(s.distances);
  if (a.rows > 1) {
    s.variance = variance(s.distances, /*ddof=*/1);
    s.sem = standard_error(s.distances, /*ddof=*/1);
  }
  return s;
}

}  // namespace preimage::stats
