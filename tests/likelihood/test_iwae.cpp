// The IWAE bound (likelihood/importance.h) on preimage's own VAE: exact where the encoder's posterior is the true one, below the exact
// log-likelihood (brute-force quadrature of a 1-D latent) and rising towards it with k, above the
// ELBO, and the same figure each time for a seed.
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "../train/synthetic.h"
#include "decoders/model_source.h"
#include "likelihood/importance.h"
#include "pipeline/train_step.h"
#include "train/elbo.h"

using namespace preimage;

namespace {

// log p(x) of every image by the trapezoidal rule on [-R, R] with n points: the decoder's
// logits in float64, the standard normal prior. Exact to far below the tolerances used here.
torch::Tensor quadrature_log_px(model::Vae& vae, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  const int64_t n = 8001;
  const double radius = 10.0, h = 2 * radius / (n - 1);
  auto grid = torch::linspace(-radius, radius, n, torch::kFloat32).unsqueeze(1);  // (G, 1)
  auto logits = vae->decode(grid).to(torch::kFloat64);                           // (G, P)
  auto x = images.to(torch::kFloat64);                                           // (N, P)
  // log p(x | g) = x . l - sum softplus(l), for all images and grid points at once: (N, G)
  auto log_px_g = x.matmul(logits.t()) - torch::softplus(logits).sum(1).unsqueeze(0);
  auto g = grid.squeeze(1).to(torch::kFloat64);
  auto log_prior = -0.5 * g * g - 0.5 * std::log(2 * M_PI);                      // (G)
  auto log_w = torch::full({n}, std::log(h), torch::kFloat64);
  log_w[0] = log_w[n - 1] = std::log(h / 2);
  return torch::logsumexp(log_px_g + (log_prior + log_w).unsqueeze(0), 1);      // (N)
}

// A 1-D latent VAE with a decoder sharp enough that the posterior is far narrower than the
// prior, and an encoder that knows it only roughly: the bound has a real gap to close.
model::Vae rough_model() {
  torch::manual_seed(11);
  model::Vae vae(test_support::tiny_vae_config(/*latent=*/1));
  torch::NoGradGuard no_grad;
  for (auto& layer : vae->decoder()->layers()) layer->weight.mul_(3.0);
  return vae;
}
// IWAE_k per image, its samples from a generator seeded with `seed`.
torch::Tensor iwae_log_px(model::Vae& vae, const torch::Tensor& x, int64_t k, uint64_t seed,
                          int64_t batch) {
  torch::NoGradGuard no_grad;
  const auto model = decoders::vae_model(vae);
  const auto e = vae->encode(x);
  return likelihood::importance_weighted(*model.decoder, x, {e.mean, e.logvar}, k, seed, batch)
      .bound;
}
}  // namespace

// With a decoder that ignores the latent, p(y | x) is the prior; an encoder that outputs the
// prior (mean 0, log-variance 0) makes every importance weight equal p(x): the bound is log p(x)
// for every k.
TEST(Iwae, ExactWhenTheEncoderIsThePosterior) {
  torch::manual_seed(3);
  model::Vae vae(test_support::tiny_vae_config(2));
  torch::NoGradGuard no_grad;
  vae->decoder()->layers().back()->weight.zero_();
  vae->decoder()->layers().back()->bias.uniform_(-2, 2);
  vae->encoder()->layers().back()->weight.zero_();
  vae->encoder()->layers().back()->bias.zero_();
  const auto x = test_support::synthetic_images(20, 5).images;          // (N, P)
  const auto b = vae->decoder()->layers().back()->bias.to(torch::kFloat64);
  const auto xd = x.to(torch::kFloat64);
  const auto expected = (xd * torch::log_sigmoid(b) + (1 - xd) * torch::log_sigmoid(-b)).sum(1);
  for (int64_t k : {1, 7, 50}) {
    const auto got = iwae_log_px(vae, x, k, /*seed=*/k, /*batch=*/6);
    const double err = (got - expected).abs().max().item<double>();
    EXPECT_LT(err, 1e-4) << "k " << k << ": largest difference " << err;
  }
}

TEST(Iwae, BelowTheExactLikelihoodAndRisingWithK) {
  auto vae = rough_model();
  const auto x = test_support::synthetic_images(40, 6).images;
  const double exact = quadrature_log_px(vae, x).mean().item<double>();
  double previous = -std::numeric_limits<double>::infinity();
  std::vector<double> bounds;
  for (int64_t k : {1, 5, 50, 500}) {
    double mean = 0;  // averaged over seeds: the bound holds in expectation
    for (uint64_t seed = 0; seed < 8; ++seed) mean += pipeline::iwae_mean(vae, x, k, seed) / 8;
    bounds.push_back(mean);
    EXPECT_TRUE(std::isfinite(mean));
    EXPECT_LE(mean, exact + 1e-3) << "k " << k << ": the bound exceeds log p(x)";
    EXPECT_GE(mean, previous - 1e-3) << "k " << k << ": lower than with fewer samples";
    previous = mean;
  }
  std::printf("exact %.4f, IWAE k=1 %.4f, 5 %.4f, 50 %.4f, 500 %.4f\n", exact, bounds[0],
              bounds[1], bounds[2], bounds[3]);
  EXPECT_GT(bounds[3] - bounds[0], 0.05) << "the bound should close a real gap";
  EXPECT_LT(exact - bounds[3], 0.5 * (exact - bounds[0])) << "k = 500 should close most of it";
  EXPECT_NEAR(bounds[3], exact, 0.05) << "k = 500 should be within 0.05 nat of log p(x)";
}

// IWAE_50 is above the ELBO (the mean of many one-sample estimates of it).
TEST(Iwae, AboveTheElbo) {
  auto vae = rough_model();
  const auto x = test_support::synthetic_images(40, 7).images;
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  const auto repeated = x.repeat({200, 1});
  const double elbo = -train::negative_elbo(vae->forward(repeated), repeated).mean().item<double>();
  const double iwae = pipeline::iwae_mean(vae, x, 50, /*seed=*/2);
  EXPECT_GT(iwae, elbo) << "IWAE_50 " << iwae << " vs ELBO " << elbo;
}

// The same seed, the same figure; LibTorch's default generator is left as it was.
TEST(Iwae, DeterministicForASeed) {
  auto vae = rough_model();
  const auto x = test_support::synthetic_images(30, 8).images;
  torch::manual_seed(42);
  const auto before = torch::rand({4});
  torch::manual_seed(42);
  const double a = pipeline::iwae_mean(vae, x, 50, 9);
  const double b = pipeline::iwae_mean(vae, x, 50, 9);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(torch::equal(torch::rand({4}), before)) << "it drew from the default generator";
  EXPECT_NE(a, pipeline::iwae_mean(vae, x, 50, 10));
}
