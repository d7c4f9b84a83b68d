// Descriptive statistics: hand-checkable cases, input errors, and numpy/scipy goldens
// (tests/fixtures/stats/one_d.json, two_d.json).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "golden.h"
#include "stats/descriptive.h"
#include "stats/distances.h"
#include "stats/histogram.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;
using testing::load_sample;
using testing::sample_name;

TEST(Descriptive, HandChecked) {
  const std::vector<double> x = {1.0, 2.0, 3.0, 4.0};
  EXPECT_DOUBLE_EQ(mean(x), 2.5);
  EXPECT_DOUBLE_EQ(variance(x, 0), 1.25);    // 5 / 4
  EXPECT_DOUBLE_EQ(variance(x), 5.0 / 3.0);  // ddof=1 by default
  EXPECT_DOUBLE_EQ(standard_error(x), std::sqrt(5.0 / 3.0) / 2.0);
}

TEST(Descriptive, CovarianceOfTinyMatrix) {
  // Points (0, 0), (1, 2), (2, 4), (3, 0): deviations x (-1.5, -.5, .5, 1.5), y (-1.5, .5, 2.5,
  // -1.5), so sums of products 5 (xx), 11 (yy), 1 (xy): var x = 5/3, var y = 11/3, cov = 1/3.
  const Matrix x(4, 2, {0, 0, 1, 2, 2, 4, 3, 0});
  const Matrix c = covariance(x);
  EXPECT_DOUBLE_EQ(c(0, 0), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(c(1, 1), 11.0 / 3.0);
  EXPECT_DOUBLE_EQ(c(0, 1), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(c(1, 0), 1.0 / 3.0);
  const Matrix c0 = covariance(x, /*ddof=*/0);
  EXPECT_DOUBLE_EQ(c0(0, 1), 0.25);  // ddof=0: 1 / 4
  const std::vector<double> m = column_means(x);
  EXPECT_DOUBLE_EQ(m[0], 1.5);
  EXPECT_DOUBLE_EQ(m[1], 1.5);
}

TEST(Descriptive, HistogramEdgesAndClosedLastBin) {
  // Edges 0, 1, 2, 3, 4: 1.0 falls in the second bin, 4.0 in the last (closed) one.
  const Histogram h = histogram({0.0, 1.0, 1.5, 2.0, 4.0, 4.0}, 4);
  EXPECT_EQ(h.edges, (std::vector<double>{0.0, 1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(h.counts, (std::vector<std::int64_t>{1, 2, 1, 2}));
  // Values outside an explicit range are dropped; the range end itself is counted.
  const Histogram r = histogram({-1.0, 0.0, 0.5, 1.0, 2.0}, 2, std::make_pair(0.0, 1.0));
  EXPECT_EQ(r.counts, (std::vector<std::int64_t>{1, 2}));
  // A constant sample gets numpy's range (v - 0.5, v + 0.5).
  const Histogram c = histogram({3.0, 3.0}, 2);
  EXPECT_EQ(c.edges, (std::vector<double>{2.5, 3.0, 3.5}));
  EXPECT_EQ(c.counts, (std::vector<std::int64_t>{0, 2}));
}

TEST(Descriptive, PairedDistances) {
  const Matrix a(2, 2, {0, 0, 1, 1});
  const Matrix b(2, 2, {3, 4, 1, 2});
  const DistanceSummary s = paired_distances(a, b);
  EXPECT_EQ(s.distances, (std::vector<double>{5.0, 1.0}));
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.variance, 8.0);
}

TEST(Descriptive, RejectsEmptyAndNonFiniteInput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(mean({}), std::invalid_argument);
  EXPECT_THROW(mean({1.0, nan}), std::invalid_argument);
  EXPECT_THROW(variance({1.0}), std::invalid_argument);  // ddof=1 needs two values
  EXPECT_THROW(histogram({}, 3), std::invalid_argument);
  EXPECT_THROW(histogram({1.0}, 0), std::invalid_argument);
  EXPECT_THROW(histogram({1.0, std::numeric_limits<double>::infinity()}, 3), std::invalid_argument);
  EXPECT_THROW(covariance(Matrix(1, 2, {1, 2})), std::invalid_argument);
  EXPECT_THROW(paired_distances(Matrix(2, 2), Matrix(2, 3)), std::invalid_argument);
  EXPECT_THROW(Matrix(2, 2, std::vector<double>{1, 2, 3}), std::invalid_argument);
  try {
    mean({1.0, nan});
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("input[1]"), std::string::npos) << e.what();
  }
}

TEST(DescriptiveGolden, MatchesNumpyOneD) {
  const auto fixture = load_fixture("one_d.json");
  GoldenCheck check("descriptive 1-D");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> x = load_sample(c["sample"]);
    const std::string name = sample_name(c["sample"]);
    check.statistic(mean(x), c["mean"], name + " mean");
    check.statistic(variance(x, 0), c["var0"], name + " var ddof=0");
    check.statistic(variance(x, 1), c["var1"], name + " var ddof=1");
    check.statistic(standard_error(x), c["sem"], name + " sem");
    for (const auto& [key, bins, range] :
         {std::tuple{"hist10", 10, std::optional<std::pair<double, double>>{}},
          std::tuple{"hist7_range", 7, std::optional<std::pair<double, double>>{{-1.0, 2.0}}}}) {
      const Histogram h = histogram(x, bins, range);
      EXPECT_EQ(h.counts, c[key]["counts"].get<std::vector<std::int64_t>>()) << name << " " << key;
      const auto edges = c[key]["edges"].get<std::vector<double>>();
      ASSERT_EQ(h.edges.size(), edges.size());
      for (std::size_t i = 0; i < edges.size(); ++i)
        check.statistic(h.edges[i], edges[i], name + " " + key + " edge");
    }
  }
}

TEST(DescriptiveGolden, MatchesNumpyTwoD) {
  const auto fixture = load_fixture("two_d.json");
  GoldenCheck check("descriptive 2-D");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> flat = load_sample(c["sample"]);
    const std::size_t n = flat.size() / 2;
    const Matrix x(n, 2, flat);
    const std::string name = sample_name(c["sample"]);
    const auto m = column_means(x);
    for (std::size_t i = 0; i < 2; ++i) check.statistic(m[i], c["mean"][i], name + " mean");
    const Matrix cov = covariance(x), cov0 = covariance(x, 0);
    for (std::size_t i = 0; i < 4; ++i) {
      check.statistic(cov.data[i], c["cov"][i], name + " cov");
      check.statistic(cov0.data[i], c["cov0"][i], name + " cov ddof=0");
    }
    // Second set: the same points moved by (sin i, cos(i/2)), as in the Python script.
    Matrix y = x;
    for (std::size_t r = 0; r < n; ++r) {
      y(r, 0) += std::sin(static_cast<double>(r));
      y(r, 1) += std::cos(0.5 * static_cast<double>(r));
    }
    const DistanceSummary s = paired_distances(x, y);
    check.statistic(s.mean, c["paired_distance"]["mean"], name + " distance mean");
    check.statistic(s.variance, c["paired_distance"]["var1"], name + " distance var");
    check.statistic(s.sem, c["paired_distance"]["sem"], name + " distance sem");
  }
}

}  // namespace
}  // namespace preimage::stats
