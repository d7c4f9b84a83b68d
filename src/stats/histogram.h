#pragma once
// Histogram with numpy.histogram semantics (numpy 1.24): `bins` equal-width bins whose edges are
// numpy.linspace(lo, hi, bins + 1); every bin is half-open [a, b) except the last, which is
// closed [a, b]; values outside [lo, hi] are not counted. Without a range, (lo, hi) is
// (min(x), max(x)), widened to (v - 0.5, v + 0.5) when all values equal v (numpy's rule).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace preimage::stats {

struct Histogram {
  std::vector<std::int64_t> counts;  // (bins)
  std::vector<double> edges;         // (bins + 1), increasing
};

// Throws std::invalid_argument on empty input, NaN/inf values, bins == 0, or a range with
// lo > hi or non-finite ends.
Histogram histogram(const std::vector<double>& x, std::size_t bins,
                    std::optional<std::pair<double, double>> range = std::nullopt);

}  // namespace preimage::stats
