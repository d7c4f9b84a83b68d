// Latent statistics and normality on point sets small enough to check by hand.
#include <cmath>

#include <gtest/gtest.h>

#include "analysis/latent_stats.h"
#include "analysis/normality.h"
#include "stats/ks_test.h"

using namespace preimage::analysis;

namespace {
torch::Tensor t(std::vector<double> v) { return torch::tensor(v, torch::kFloat64); }
torch::Tensor points(std::vector<double> v) { return t(v).view({-1, 2}); }
torch::Tensor ints(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }
}  // namespace

TEST(LatentStats, MomentsOfASquare) {
  // Corners of the square [0, 2]^2: mean (1, 1); each coordinate 0, 2, 0, 2 has variance
  // 4 * 1 / 3 (ddof=1); the coordinates are uncorrelated.
  auto j = latent_moments(points({0, 0, 2, 0, 0, 2, 2, 2}));
  EXPECT_DOUBLE_EQ(j["mean"][0].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["mean"][1].get<double>(), 1.0);
  EXPECT_NEAR(j["covariance"][0][0].get<double>(), 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(j["covariance"][1][1].get<double>(), 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(j["covariance"][0][1].get<double>(), 0.0, 1e-12);
}

TEST(LatentStats, PairedDistances) {
  // Distances 5 (a 3-4-5 triangle) and 1: mean 3, variance (4 + 4) / 1 = 8.
  auto j = paired_distances("A", points({0, 0, 0, 0}), "B", points({3, 4, 0, 1}));
  EXPECT_EQ(j["a"], "A");
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["variance"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(j["sem"].get<double>(), 2.0);  // sqrt(8) / sqrt(2)
}

TEST(LatentStats, DistributionAndHistogram) {
  auto j = distribution(t({1, 2, 3, 4}), 3);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 2.5);
  EXPECT_NEAR(j["variance"].get<double>(), 5.0 / 3.0, 1e-12);
  EXPECT_EQ(j["histogram"]["counts"], (std::vector<int64_t>{1, 1, 2}));  // last bin closed
  EXPECT_EQ(j["histogram"]["edges"], (std::vector<double>{1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(j["min"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["max"].get<double>(), 4.0);
}

TEST(LatentStats, CorrelationOfDeltaAndLoss) {
  auto j = delta_loss_correlation(t({-3, -2, -1, 0}), t({10, 20, 30, 40}));
  EXPECT_NEAR(j["pearson"]["r"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(j["spearman"]["rho"].get<double>(), 1.0, 1e-12);
  // A constant delta has no correlation: null, not an exception.
  auto c = delta_loss_correlation(t({0, 0, 0, 0}), t({1, 2, 3, 4}));
  EXPECT_TRUE(c["pearson"].is_null());
}

TEST(LatentStats, RankedImagesAndDigits) {
  auto delta = t({-1, -5, -3, 0}), loss = t({9, 4, 7, 1});
  auto labels = ints({7, 1, 1, 0}), indices = ints({100, 101, 102, 103});
  auto best = ranked_images(delta, true, 2, delta, loss, labels, indices);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0]["position"], 1);
  EXPECT_EQ(best[0]["index"], 101);
  EXPECT_EQ(best[0]["label"], 1);
  EXPECT_DOUBLE_EQ(best[0]["delta"].get<double>(), -5.0);
  EXPECT_EQ(best[1]["position"], 2);
  auto worst = ranked_images(loss, false, 10, delta, loss, labels, indices);
  ASSERT_EQ(worst.size(), 4u);  // k larger than N lists every image
  EXPECT_EQ(worst[0]["position"], 0);

  auto digits = lowest_loss_digits(loss, labels, 2);  // losses 1 (digit 0) and 4 (digit 1)
  EXPECT_EQ(digits["n"], 2);
  EXPECT_EQ(digits["counts"], (std::vector<int64_t>{1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(LatentStats, PerDigitMeans) {
  auto j = per_digit(t({1, 3, 5, 8}), ints({2, 2, 7, -1}));  // -1: unlabelled, left out
  EXPECT_EQ(j["count"][2], 2);
  EXPECT_EQ(j["count"][7], 1);
  EXPECT_DOUBLE_EQ(j["mean"][2].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["sem"][2].get<double>(), 1.0);  // std(1, 3) = sqrt(2), / sqrt(2)
  EXPECT_DOUBLE_EQ(j["mean"][7].get<double>(), 5.0);
  EXPECT_TRUE(j["sem"][7].is_null());
  EXPECT_TRUE(j["mean"][0].is_null());
}

TEST(Normality, RadiusTestsUseTheRadius) {
  torch::manual_seed(3);
  auto y = torch::randn({300, 2}, torch::kFloat64);
  auto r = radii(y);
  EXPECT_NEAR(r[0].item<double>(), std::hypot(y[0][0].item<double>(), y[0][1].item<double>()),
              1e-12);
  auto j = normality_tests(y, 1000);
  // The thesis's KS: the radius against a normal with its own mean and std (ddof=0).
  auto ks = preimage::stats::ks_test_normal_fitted(to_vector(r), 0);
  EXPECT_DOUBLE_EQ(j["radius_ks"]["statistic"].get<double>(), ks.statistic);
  EXPECT_DOUBLE_EQ(j["radius_ks"]["pvalue"].get<double>(), ks.pvalue);
  EXPECT_EQ(j["shapiro_wilk"]["n"], 600);  // flattened points
  // Normal points: the 2-D tests do not reject at 1%.
  EXPECT_GT(j["mardia"]["kurtosis"]["pvalue"].get<double>(), 0.01);
  EXPECT_GT(j["henze_zirkler"]["pvalue"].get<double>(), 0.01);
  EXPECT_EQ(j["henze_zirkler"]["points"], 300);
  EXPECT_EQ(normality_tests(y, 100)["henze_zirkler"]["points"], 100);
}

TEST(Normality, TooFewPointsGiveErrorsNotExceptions) {
  auto j = normality_tests(points({0, 0, 1, 1}), 100);
  EXPECT_TRUE(j["shapiro_wilk"].contains("error") || j["radius_lilliefors"].contains("error"));
  EXPECT_TRUE(j["henze_zirkler"].contains("error"));  // 2 points < d + 2
}
