// The Gauss-Hermite rule; Gaussian posteriors' ELBOs against Monte Carlo; the optimal posterior
// and the gaps: ELBO(encoder) <= ELBO(optimal) <= log p(x).
#include <cmath>
#include <iostream>
#include <vector>

#include <gtest/gtest.h>

#include "likelihood/gauss_hermite.h"
#include "likelihood/gaussian_posterior.h"
#include "likelihood/importance.h"
#include "likelihood/quadrature.h"
#include "tiny_decoder.h"

using namespace preimage;

namespace {
// tiny_decoder with its logits scaled by `gain`: sharper pixels, so narrower posteriors.
decoders::DenseReluDecoder sharp_decoder(int64_t pixels, double gain) {
  auto mlp = test_support::tiny_decoder(2, pixels, 3);
  std::vector<torch::Tensor> w, b;
  for (auto& layer : mlp->layers()) {
    w.push_back(layer->weight.detach().clone());
    b.push_back(layer->bias.detach().clone());
  }
  w.back().mul_(gain);
  b.back().mul_(gain);
  return decoders::DenseReluDecoder(w, b);
}
}  // namespace

TEST(GaussHermite, IntegratesPolynomialMomentsOfTheNormal) {
  auto rule = likelihood::normal_rule(6, 2);
  ASSERT_EQ(rule.nodes.size(0), 36);
  auto e = rule.nodes.to(torch::kFloat64);
  auto mean = [&](const torch::Tensor& f) { return (f * rule.weights).sum().item<double>(); };
  EXPECT_NEAR(rule.weights.sum().item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(mean(e.select(1, 0)), 0.0, 1e-6);
  EXPECT_NEAR(mean(e.select(1, 0).pow(2)), 1.0, 1e-6);
  EXPECT_NEAR(mean(e.select(1, 1).pow(4)), 3.0, 1e-5);
  EXPECT_NEAR(mean(e.select(1, 0).pow(2) * e.select(1, 1).pow(2)), 1.0, 1e-5);
  EXPECT_NEAR(mean(e.select(1, 0).pow(10)), 945.0, 1e-2);  // degree 10 < 2 * 6
}

TEST(GaussianElbo, MatchesMonteCarlo) {
  auto decoder = test_support::tiny_dense(2, 6, 7);
  torch::manual_seed(4);
  auto x = (torch::rand({4, 6}) < 0.5).to(torch::kFloat32);
  likelihood::GaussianPosterior q{torch::randn({4, 2}) * 0.5, torch::full({4, 2}, -1.0)};
  auto elbo = likelihood::gaussian_elbo(decoder, x, q, 12);
  // Monte Carlo: 100000 samples per image.
  for (int64_t i = 0; i < 4; ++i) {
    auto eps = torch::randn({100000, 2});
    auto y = q.mean[i] + (0.5 * q.logvar[i]).exp() * eps;
    auto l = decoder.forward(y).to(torch::kFloat64);
    auto ll = (x[i].to(torch::kFloat64) * l - torch::nn::functional::softplus(l)).sum(1);
    const double kl = 0.5 * (q.mean[i].square() + q.logvar[i].exp() - 1 - q.logvar[i])
                                .sum().item<double>();
    const double mc = ll.mean().item<double>() - kl;
    const double se = ll.std().item<double>() / std::sqrt(100000.0);
    EXPECT_NEAR(elbo[i].item<double>(), mc, 5 * se + 1e-3) << "image " << i;
  }
}

TEST(GaussianPosterior, TheGapsAreNonNegativeAndTheOptimumBeatsItsStart) {
  // Images drawn from the model itself, 100 pixels each: peaked, non-Gaussian posteriors.
  auto decoder = sharp_decoder(100, 6.0);
  torch::manual_seed(9);
  auto x = torch::bernoulli(decoder.forward(torch::randn({24, 2})).sigmoid());
  likelihood::QuadratureSettings s;
  s.points = 801;
  s.radius = 8;
  auto exact = likelihood::exact_log_likelihood(decoder, x, s);
  // A poor "encoder": the prior itself.
  likelihood::GaussianPosterior start{torch::zeros({24, 2}), torch::zeros({24, 2})};
  likelihood::OptimalPosteriorSettings o;
  o.steps = 300;
  auto best = likelihood::optimal_gaussian_posterior(decoder, x, start, o);
  auto elbo_start = likelihood::gaussian_elbo(decoder, x, start, 16);
  auto elbo_best = likelihood::gaussian_elbo(decoder, x, best, 16);
  auto amortization = elbo_best - elbo_start;
  auto approximation = exact.log_px - elbo_best;
  EXPECT_GE(amortization.min().item<double>(), -1e-6);
  EXPECT_GE(approximation.min().item<double>(), -1e-4);
  EXPECT_GT(amortization.mean().item<double>(), 0.5);  // the prior is a poor posterior
  std::cout << "log p(x) " << exact.log_px.mean().item<double>() << ", ELBO of the prior "
            << elbo_start.mean().item<double>() << ", of the best Gaussian "
            << elbo_best.mean().item<double>() << ", posterior sd "
            << exact.posterior_var.sqrt().mean().item<double>() << "\n";
  // The best Gaussian is close to the exact posterior's moments where the posterior is one blob.
  auto near = (std::get<0>(exact.posterior_var.max(1)) < 0.3).logical_and(
      approximation.lt(0.05));
  ASSERT_GT(near.sum().item<int64_t>(), 0);
  auto dm = std::get<0>((best.mean.to(torch::kFloat64) - exact.posterior_mean).abs().max(1));
  EXPECT_LT(dm.masked_select(near).max().item<double>(), 0.1);
}

TEST(ImportanceWeighted, BoundsLogPxFromBelowAndTightensWithK) {
  auto decoder = sharp_decoder(100, 3.0);
  torch::manual_seed(5);
  auto x = torch::bernoulli(decoder.forward(torch::randn({16, 2})).sigmoid());
  likelihood::QuadratureSettings s;
  s.points = 801;
  s.radius = 8;
  auto exact = likelihood::exact_log_likelihood(decoder, x, s);
  // A proposal a little off the posterior: its moments, widened.
  likelihood::GaussianPosterior q{exact.posterior_mean.to(torch::kFloat32),
                                  (exact.posterior_var * 2).log().to(torch::kFloat32)};
  auto k1 = likelihood::importance_weighted(decoder, x, q, 1, 0);
  auto k10 = likelihood::importance_weighted(decoder, x, q, 10, 0);
  auto k5000 = likelihood::importance_weighted(decoder, x, q, 5000, 0);
  const double truth = exact.log_px.mean().item<double>();
  std::cout << "IWAE k=1 " << k1.bound.mean().item<double>() << ", k=10 " << k10.bound.mean().item<double>() << ", k=5000 " << k5000.bound.mean().item<double>() << ", exact " << truth << "\n";
  EXPECT_LT(k1.bound.mean().item<double>(), k10.bound.mean().item<double>());
  EXPECT_LT(k1.bound.mean().item<double>(), k5000.bound.mean().item<double>());
  // (k = 10 against k = 5000 is left unordered: a single estimate may overshoot; the bound holds
  // in expectation.)
  EXPECT_LT(k5000.bound.mean().item<double>(), truth + 0.01);
  EXPECT_NEAR(k5000.bound.mean().item<double>(), truth, 0.05);
  // The mean log-weight is the ELBO of q: below the bound.
  EXPECT_TRUE((k5000.elbo <= k5000.bound + 1e-9).all().item<bool>());
  // Seeded: the same figures again.
  EXPECT_TRUE(torch::equal(likelihood::importance_weighted(decoder, x, q, 10, 0).bound, k10.bound));
}
