// Distributions of the KS statistics against scipy 1.10.1 on a grid of (n, x) that reaches every
// branch of kolmogn (tests/fixtures/stats/kolmogorov.json).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "golden.h"
#include "stats/kolmogorov.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;

TEST(KolmogorovGolden, KstwoMatchesScipy) {
  const auto fixture = load_fixture("kolmogorov.json");
  GoldenCheck check("kstwo sf/cdf, smirnov");
  std::map<std::string, int> branches;  // how often each algorithm was exercised
  for (const auto& row : fixture["kstwo"]) {
    const long n = row[0];
    const double x = row[1];
    const std::string at = "n=" + std::to_string(n) + " x=" + std::to_string(x);
    std::string method;
    check.pvalue(kolmogn_sf(n, x, &method), row[2], "kstwo.sf " + at);
    ++branches[method];
    check.pvalue(kolmogn_cdf(n, x, &method), row[3], "kstwo.cdf " + at);
    ++branches[method];
    check.pvalue(smirnov_sf(n, x), row[4], "smirnov " + at);
  }
  for (const auto& [method, count] : branches)
    std::printf("  kolmogn branch %-24s x%d\n", method.c_str(), count);
  for (const char* required : {"exact (Durbin matrix)", "exact (Pomeranz)", "Pelz-Good",
                               "2*smirnov (Miller)", "2*smirnov (exact)", "Ruben-Gambino"}) {
    EXPECT_GT(branches[required], 0) << "the grid no longer reaches " << required;
  }
}

TEST(KolmogorovGolden, LimitMatchesScipy) {
  const auto fixture = load_fixture("kolmogorov.json");
  GoldenCheck check("kolmogorov (kstwobign)");
  for (const auto& row : fixture["kolmogorov"]) {
    const double z = row[0];
    check.pvalue(kolmogorov_sf(z), row[1], "kolmogorov z=" + std::to_string(z));
    check.pvalue(kolmogorov_cdf(z), row[2], "kstwobign.cdf z=" + std::to_string(z));
  }
}

TEST(Kolmogorov, HandChecked) {
  // n = 1: D_1 is uniform on [1/2, 1], so P(D_1 > x) = 2 (1 - x).
  EXPECT_DOUBLE_EQ(kolmogn_sf(1, 0.75), 0.5);
  // P(D_n <= 1/(2n)) = 0 and P(D_n <= 1) = 1.
  EXPECT_EQ(kolmogn_cdf(10, 0.05), 0.0);
  EXPECT_EQ(kolmogn_cdf(10, 1.0), 1.0);
  EXPECT_THROW(kolmogn_sf(0, 0.5), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::stats
