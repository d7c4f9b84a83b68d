// The thesis's VAE: layer shapes, Keras initialisation, and the ELBO of the TensorFlow tutorial.
#include <cmath>

#include <gtest/gtest.h>

#include "model/vae.h"
#include "train/adam.h"
#include "train/elbo.h"

using namespace preimage;

TEST(Vae, ThesisArchitecture) {
  model::Vae vae(model::VaeConfig{});
  const auto& enc = vae->encoder()->layers();
  const auto& dec = vae->decoder()->layers();
  ASSERT_EQ(enc.size(), 6u);  // 5 x Dense(784, ReLU) + Dense(2L)
  ASSERT_EQ(dec.size(), 5u);  // 4 x Dense(784, ReLU) + Dense(784)
  EXPECT_EQ(enc[0]->weight.sizes(), (std::vector<int64_t>{784, 784}));
  EXPECT_EQ(enc[5]->weight.sizes(), (std::vector<int64_t>{4, 784}));
  EXPECT_EQ(dec[0]->weight.sizes(), (std::vector<int64_t>{784, 2}));
  EXPECT_EQ(dec[4]->weight.sizes(), (std::vector<int64_t>{784, 784}));
  auto x = torch::rand({3, 784});
  auto e = vae->encode(x);
  EXPECT_EQ(e.mean.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(e.logvar.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(vae->decode(e.mean).sizes(), (std::vector<int64_t>{3, 784}));
}

TEST(Vae, GlorotUniformAndZeroBias) {
  torch::manual_seed(0);
  model::Vae vae(model::VaeConfig{});
  const auto& w = vae->decoder()->layers()[1]->weight;
  const double limit = std::sqrt(6.0 / (784 + 784));
  EXPECT_LE(w.abs().max().item<double>(), limit);
  EXPECT_GT(w.abs().max().item<double>(), 0.99 * limit);
  // Uniform on [-a, a] has standard deviation a / sqrt(3).
  EXPECT_NEAR(w.std().item<double>(), limit / std::sqrt(3.0), 0.01 * limit);
  EXPECT_EQ(vae->decoder()->layers()[1]->bias.abs().max().item<double>(), 0.0);
}

TEST(Vae, LatentDimensionIsASetting) {
  model::VaeConfig c;
  c.latent_dim = 5;
  c.hidden_width = 16;
  model::Vae vae(c);
  EXPECT_EQ(vae->encode(torch::rand({2, 784})).mean.size(1), 5);
}

TEST(Elbo, LogNormalPdfMatchesTheFormula) {
  auto z = torch::tensor({{0.5, -1.0}}, torch::kFloat64);
  auto m = torch::tensor({{0.0, 0.0}}, torch::kFloat64);
  auto lv = torch::tensor({{0.0, std::log(4.0)}}, torch::kFloat64);
  const double expected = (-0.5 * (0.25 + std::log(2 * M_PI))) +
                          (-0.5 * (1.0 / 4.0 + std::log(4.0) + std::log(2 * M_PI)));
  EXPECT_NEAR(train::log_normal_pdf(z, m, lv).item<double>(), expected, 1e-12);
}

TEST(Elbo, NegativeElboOfAKnownCase) {
  // One pixel, one latent: logit 0 (p = 1/2) on target 1 costs log 2; z = mean = 0 with
  // logvar 0 makes log p(z) = log q(z|x), so the ELBO is -log 2.
  model::VaeOutput out;
  out.logits = torch::zeros({1, 1});
  out.mean = torch::zeros({1, 1});
  out.logvar = torch::zeros({1, 1});
  out.z = torch::zeros({1, 1});
  EXPECT_NEAR(train::negative_elbo(out, torch::ones({1, 1})).item<double>(), std::log(2.0), 1e-6);
}

TEST(KerasAdam, MatchesKerasFormulaOverThreeSteps) {
  // Keras: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  //        p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps).
  auto p = torch::tensor({1.0f, -2.0f, 0.5f}).requires_grad_(true);
  train::KerasAdam adam({p}, train::AdamSettings{0.1});
  double ref[3] = {1.0, -2.0, 0.5}, m[3] = {}, v[3] = {};
  const double grads[3][3] = {{0.3, -1.0, 0.0}, {0.1, 2.0, -0.5}, {-0.2, 0.7, 0.25}};
  for (int t = 1; t <= 3; ++t) {
    adam.zero_grad();
    (p * torch::tensor({static_cast<float>(grads[t - 1][0]), static_cast<float>(grads[t - 1][1]),
                        static_cast<float>(grads[t - 1][2])}))
        .sum()
        .backward();
    adam.step();
    const double alpha = 0.1 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      ref[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
  }
  // float32 arithmetic against a double reference: a few float32 ulps of values near 1.
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(p[i].item<double>(), ref[i], 1e-6) << i;
}
