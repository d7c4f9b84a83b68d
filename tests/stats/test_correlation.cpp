// Pearson and Spearman against scipy.stats.pearsonr / spearmanr on the 2-D point sets.
#include <gtest/gtest.h>

#include "golden.h"
#include "stats/correlation.h"
#include "stats/matrix.h"

namespace preimage::stats {
namespace {

using testing::GoldenCheck;
using testing::load_fixture;
using testing::load_sample;
using testing::sample_name;

TEST(CorrelationGolden, MatchesScipy) {
  const auto fixture = load_fixture("two_d.json");
  GoldenCheck check("pearson/spearman");
  for (const auto& c : fixture["cases"]) {
    const std::vector<double> flat = load_sample(c["sample"]);
    const Matrix m(flat.size() / 2, 2, flat);
    const std::string name = sample_name(c["sample"]);
    const TestResult p = pearson(m.column(0), m.column(1));
    check.statistic(p.statistic, c["pearson"]["statistic"], name + " pearson r");
    check.pvalue(p.pvalue, c["pearson"]["pvalue"], name + " pearson p");
    const TestResult s = spearman(m.column(0), m.column(1));
    check.statistic(s.statistic, c["spearman"]["statistic"], name + " spearman rho");
    check.pvalue(s.pvalue, c["spearman"]["pvalue"], name + " spearman p");
  }
}

TEST(Correlation, HandCheckedAndErrors) {
  EXPECT_DOUBLE_EQ(pearson({1, 2, 3}, {2, 4, 6}).statistic, 1.0);
  EXPECT_DOUBLE_EQ(pearson({1, 2}, {2, 1}).statistic, -1.0);
  EXPECT_EQ(average_ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {1, 4, 9, 16}).statistic, 1.0);
  EXPECT_THROW(pearson({1, 2, 3}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(pearson({1, 1, 1}, {1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(spearman({}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::stats
