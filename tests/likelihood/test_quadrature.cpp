// The quadrature of log p(x) against closed forms: a linear decoder with a Gaussian observation
// (p(x) is then Gaussian), and importance sampling on a tiny ReLU decoder with a Bernoulli one.
#include <cmath>

#include <gtest/gtest.h>

#include "decoders/dense_relu.h"
#include "likelihood/quadrature.h"
#include "tiny_decoder.h"
#include "util/error.h"

using namespace preimage;

namespace {
// log N(x; mean, cov) of each row of x (N, P), float64.
torch::Tensor log_gaussian(const torch::Tensor& x, const torch::Tensor& mean,
                           const torch::Tensor& cov) {
  const auto P = static_cast<double>(x.size(1));
  auto d = x - mean;
  auto sol = torch::linalg_solve(cov, d.t()).t();
  return -0.5 * ((d * sol).sum(1) + torch::logdet(cov) + P * std::log(2 * M_PI));
}

struct LinearModel {
  torch::Tensor W, b;  // (P, L), (P) float64
  decoders::DenseReluDecoder decoder;
};

LinearModel linear_model(int64_t latent, int64_t pixels, uint64_t seed) {
  torch::manual_seed(seed);
  auto W = torch::randn({pixels, latent}, torch::kFloat64) * 0.8;
  auto b = torch::randn({pixels}, torch::kFloat64) * 0.3;
  return {W, b, decoders::DenseReluDecoder({W.to(torch::kFloat32)}, {b.to(torch::kFloat32)})};
}
}  // namespace

TEST(Quadrature, MatchesTheClosedFormOfALinearGaussianModel) {
  const double sigma = 0.7;
  auto m = linear_model(2, 5, 11);
  // p(x) = N(b, W W^T + sigma^2 I); the posterior is N(S W^T (x - b) / sigma^2, S) with
  // S = (I + W^T W / sigma^2)^-1.
  auto cov = m.W.mm(m.W.t()) + sigma * sigma * torch::eye(5, torch::kFloat64);
  auto x = (m.b + torch::randn({30, 5}, torch::kFloat64).mm(torch::linalg_cholesky(cov).t()));
  likelihood::QuadratureSettings s;
  s.points = 401;
  s.radius = 7;
  s.observation = {likelihood::Observation::kGaussian, sigma};
  auto q = likelihood::exact_log_likelihood(m.decoder, x.to(torch::kFloat32), s);
  auto exact = log_gaussian(x, m.b, cov);
  EXPECT_LT((q.log_px - exact).abs().max().item<double>(), 2e-4);
  auto S = torch::inverse(torch::eye(2, torch::kFloat64) + m.W.t().mm(m.W) / (sigma * sigma));
  auto post_mean = (x - m.b).mm(m.W).mm(S) / (sigma * sigma);
  EXPECT_LT((q.posterior_mean - post_mean).abs().max().item<double>(), 1e-4);
  EXPECT_LT((q.posterior_var - S.diagonal().unsqueeze(0)).abs().max().item<double>(), 1e-4);
  // The rule of twice the spacing, from the same pass, agrees: the rule has converged.
  EXPECT_LT((q.log_px_coarse - q.log_px).abs().max().item<double>(), 1e-4);
  EXPECT_LT(q.edge_mass.max().item<double>(), 1e-6);
}

TEST(Quadrature, ACoarseGridIsCaughtByItsOwnCheck) {
  // Too few points for the posterior's width: the fine and the coarse rule disagree, and the
  // fine one is off the closed form. The check must be able to say so.
  const double sigma = 0.05;
  auto m = linear_model(2, 8, 5);
  auto cov = m.W.mm(m.W.t()) + sigma * sigma * torch::eye(8, torch::kFloat64);
  auto x = (m.b + torch::randn({10, 8}, torch::kFloat64).mm(torch::linalg_cholesky(cov).t()));
  likelihood::QuadratureSettings s;
  s.points = 21;
  s.radius = 6;
  s.observation = {likelihood::Observation::kGaussian, sigma};
  auto q = likelihood::exact_log_likelihood(m.decoder, x.to(torch::kFloat32), s);
  EXPECT_GT((q.log_px_coarse - q.log_px).abs().mean().item<double>(), 0.01);
  EXPECT_GT((q.log_px - log_gaussian(x, m.b, cov)).abs().mean().item<double>(), 0.01);
}

TEST(Quadrature, AgreesWithImportanceSamplingOnATinyReluDecoder) {
  auto decoder = test_support::tiny_dense(2, 6, 7);
  torch::manual_seed(2);
  auto x = (torch::rand({8, 6}) < 0.5).to(torch::kFloat32);
  likelihood::QuadratureSettings s;
  s.points = 401;
  s.radius = 7;
  auto q = likelihood::exact_log_likelihood(decoder, x, s);
  // p(x) = E_{y ~ N(0, I)} p(x | y): plain Monte Carlo from the prior, 200000 samples.
  const int64_t K = 200000;
  auto y = torch::randn({K, 2});
  auto logits = decoder.forward(y).to(torch::kFloat64);  // (K, P)
  auto x64 = x.to(torch::kFloat64);
  auto ll = x64.mm(logits.t()) - torch::nn::functional::softplus(logits).sum(1).unsqueeze(0);
  auto lse = torch::logsumexp(ll, 1) - std::log(static_cast<double>(K));
  auto w = (ll - torch::logsumexp(ll, 1, true)).exp();  // normalized weights
  auto ess = 1.0 / w.square().sum(1);                   // effective sample size
  for (int64_t i = 0; i < x.size(0); ++i) {
    // The estimate's standard error in log space is about 1/sqrt(ESS) (relative).
    const double tolerance = 5.0 / std::sqrt(ess[i].item<double>()) + 1e-3;
    EXPECT_NEAR(q.log_px[i].item<double>(), lse[i].item<double>(), tolerance) << "image " << i;
  }
  // The mode is a grid point whose log joint is the largest: at least that of the posterior mean.
  auto at_mean = likelihood::log_joint(decoder, x, q.posterior_mean.to(torch::kFloat32));
  EXPECT_TRUE((q.mode_log_joint >= at_mean - 1e-4).all().item<bool>());
  EXPECT_TRUE(torch::allclose(likelihood::log_joint(decoder, x, q.mode), q.mode_log_joint, 1e-5,
                              1e-4));
}

TEST(Quadrature, LogJointIsTheBernoulliLikelihoodPlusThePrior) {
  auto decoder = test_support::tiny_dense(2, 6, 7);
  auto x = (torch::rand({5, 6}) < 0.5).to(torch::kFloat32);
  auto y = torch::randn({5, 2});
  auto l = decoder.forward(y).to(torch::kFloat64);
  auto x64 = x.to(torch::kFloat64);
  auto expected = (x64 * l.sigmoid().log() + (1 - x64) * (1 - l.sigmoid()).log()).sum(1) -
                  0.5 * y.to(torch::kFloat64).square().sum(1) - std::log(2 * M_PI);
  EXPECT_TRUE(torch::allclose(likelihood::log_joint(decoder, x, y), expected, 1e-5, 1e-4));
}

TEST(Quadrature, RefusesWhatItCannotIntegrate) {
  auto decoder = test_support::tiny_dense(2, 6, 7);
  likelihood::QuadratureSettings s;
  s.points = 51;
  auto grey = torch::rand({3, 6});
  EXPECT_THROW(likelihood::exact_log_likelihood(decoder, grey, s, "grey images"), UserError);
  EXPECT_THROW(likelihood::exact_log_likelihood(decoder, torch::ones({3, 5}), s), UserError);
  s.points = 50;  // even: no coarse rule inside it
  EXPECT_THROW(likelihood::exact_log_likelihood(decoder, torch::ones({3, 6}), s), UserError);
  auto wide = test_support::tiny_dense(4, 6, 7);
  s.points = 5;
  EXPECT_THROW(likelihood::exact_log_likelihood(wide, torch::ones({3, 6}), s), UserError);
}
