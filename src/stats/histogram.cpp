#include "stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "stats/validate.h"

namespace preimage::stats {
namespace {

// numpy.linspace(lo, hi, num) with endpoint=True: start + i * step, last value set to hi exactly.
std::vector<double> linspace(double lo, double hi, std::size_t num) {
  std::vector<double> out(num);
  const double step = (hi - lo) / static_cast<double>(num - 1);
  for (std::size_t i = 0; i < num; ++i) out[i] = static_cast<double>(i) * step + lo;
  out.back() = hi;
  return out;
}

}  // namespace

Histogram histogram(const std::vector<double>& x, std::size_t bins,
                    std::optional<std::pair<double, double>> range) {
  const char* where = "stats::histogram";
  detail::require_finite(x, where);
  detail::require(bins > 0, where, "bins must be positive, got 0");
  double lo = 0.0, hi = 0.0;
  if (range) {
    lo = range->first;
    hi = range->second;
    std::ostringstream msg;
    msg << "range (" << lo << ", " << hi << ") must be finite with lo <= hi";
    detail::require(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, where, msg.str());
  } else {
    const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
    lo = *mn;
    hi = *mx;
  }
  if (lo == hi) {  // numpy widens a degenerate range by half a unit on each side
    lo -= 0.5;
    hi += 0.5;
  }

  Histogram h;
  h.edges = linspace(lo, hi, bins + 1);
  h.counts.assign(bins, 0);
  // numpy's fast path for equal bins: a scaled index, then corrected against the actual edges so
  // that rounding never puts a value on the wrong side of an edge.
  const double norm = static_cast<double>(bins) / (hi - lo);
  for (double v : x) {
    if (v < lo || v > hi) continue;
    auto i = static_cast<std::size_t>((v - lo) * norm);
    if (i >= bins) i = bins - 1;
    if (v < h.edges[i] && i > 0) --i;
    if (v >= h.edges[i + 1] && i != bins - 1) ++i;
    ++h.counts[i];
  }
  return h;
}

}  // namespace preimage::stats
