// Keras's Adam as preimage runs it (vectorized, its chunks shared with a helper thread) against a
// plain float32 loop of the same formula, and the VAE's training step: deterministic, and the
// same update as the autograd-and-step sequence it stands for.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/vae.h"
#include "train/adam.h"
#include "train/elbo.h"
#include "train/train_step.h"

using namespace preimage;

namespace {

// Keras's update in float32, one element at a time, the operations in the order adam.cpp uses.
struct ReferenceAdam {
  std::vector<float> p, m, v;
  int t = 0;
  void step(const std::vector<float>& g, const train::AdamSettings& s) {
    ++t;
    const float alpha = static_cast<float>(s.learning_rate * std::sqrt(1 - std::pow(s.beta_2, t)) /
                                           (1 - std::pow(s.beta_1, t)));
    const float b1 = static_cast<float>(s.beta_1), b2 = static_cast<float>(s.beta_2);
    const float c1 = static_cast<float>(1 - s.beta_1), c2 = static_cast<float>(1 - s.beta_2);
    const float eps = static_cast<float>(s.epsilon);
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = b1 * m[i] + c1 * g[i];
      v[i] = b2 * v[i] + c2 * g[i] * g[i];
      p[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
  }
};

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

}  // namespace

// Sizes around the vector width (4), one below the helper's threshold (2^16 elements in all)
// and several above it, cut in chunks of 2^16 with a ragged end: every element bit for bit as
// the scalar loop, whichever thread updated it.
TEST(KerasAdam, VectorizedAndSharedUpdateIsTheScalarFormulaBitForBit) {
  for (const int64_t n : {1, 3, 4, 7, 65535, 65536 * 3 + 5}) {
    torch::manual_seed(n);
    auto p = torch::randn({n});
    const train::AdamSettings settings{1e-2};
    train::KerasAdam adam({p}, settings);
    ReferenceAdam ref{to_vector(p), std::vector<float>(n), std::vector<float>(n)};
    for (int t = 0; t < 4; ++t) {
      auto g = torch::randn({n}) * (t == 2 ? 1e-20 : 1.0);  // tiny gradients too
      adam.zero_grad();
      p.mutable_grad() = g;
      adam.step();
      ref.step(to_vector(g), settings);
    }
    const auto got = to_vector(p);
    int64_t differ = 0;
    for (int64_t i = 0; i < n; ++i) differ += got[i] != ref.p[i];
    EXPECT_EQ(differ, 0) << "n = " << n;
  }
}

TEST(KerasAdam, ZeroGradDropsGradientsAndStepSkipsThoseWithout) {
  auto a = torch::ones({3}).requires_grad_(true);
  auto b = torch::ones({2}).requires_grad_(true);
  train::KerasAdam adam({a, b}, train::AdamSettings{0.1});
  (a.sum() + b.sum()).backward();
  adam.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  (2 * a).sum().backward();  // b gets no gradient this step
  adam.step();
  EXPECT_LT(a[0].item<float>(), 1.0f);
  EXPECT_EQ(b[0].item<float>(), 1.0f);
  EXPECT_EQ(adam.first_moments()[1].abs().sum().item<float>(), 0.0f);
}

TEST(KerasAdam, UpdateOneParameterIsWhatStepDoes) {
  torch::manual_seed(3);
  auto p1 = torch::randn({100, 7}), p2 = p1.clone();
  auto g = torch::randn({100, 7});
  train::KerasAdam stepped({p1}, train::AdamSettings{1e-3});
  train::KerasAdam updated({p2}, train::AdamSettings{1e-3});
  for (int t = 0; t < 3; ++t) {
    p1.mutable_grad() = g;
    stepped.step();
    const auto scalars = updated.next_scalars();
    updated.update(0, g, scalars);
  }
  EXPECT_TRUE(torch::equal(p1, p2));
  EXPECT_EQ(stepped.iterations(), updated.iterations());
}

namespace {

model::VaeConfig small_vae() {
  model::VaeConfig c;
  c.image_height = 8;
  c.image_width = 8;
  c.hidden_width = 300;  // 300 x 300 weights: the optimizer's helper takes part
  c.encoder_depth = 2;
  c.decoder_depth = 2;
  return c;
}

// `steps` training steps from seed 7 on fixed binary images; the parameters afterwards.
std::vector<torch::Tensor> train_steps(bool with_train_step, int steps,
                                       std::vector<double>* losses) {
  torch::manual_seed(7);
  model::Vae vae(small_vae());
  train::KerasAdam adam(vae->parameters(), train::AdamSettings{1e-3});
  auto images = (torch::rand({4 * 16, 64}) > 0.7).to(torch::kFloat32);
  for (int s = 0; s < steps; ++s) {
    auto x = images.slice(0, (s % 4) * 16, (s % 4 + 1) * 16);
    losses->push_back(with_train_step ? train::train_step(vae, adam, x)
                                      : train::train_step_reference(vae, adam, x));
  }
  std::vector<torch::Tensor> out;
  for (const auto& p : vae->parameters()) out.push_back(p.detach().clone());
  return out;
}

}  // namespace

TEST(TrainStep, GradientsAreAutogradsBitForBit) {
  torch::manual_seed(5);
  model::Vae vae(small_vae());
  auto x = (torch::rand({16, 64}) > 0.7).to(torch::kFloat32);
  const auto state = at::detail::getDefaultCPUGenerator().clone();
  const auto ours = train::stack_gradients(vae, x);
  for (auto& p : vae->parameters()) p.mutable_grad() = torch::Tensor();
  {  // the same sample: the generator as it was
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state.get_state());
  }
  train::negative_elbo(vae->forward(x), x).mean().backward();
  std::vector<torch::Tensor> theirs;
  for (const auto& mlp : {vae->encoder(), vae->decoder()})
    for (const auto& layer : mlp->layers()) {
      theirs.push_back(layer->weight.grad());
      theirs.push_back(layer->bias.grad());
    }
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t k = 0; k < ours.size(); ++k) {
    ASSERT_TRUE(ours[k].defined() && theirs[k].defined()) << k;
    EXPECT_TRUE(torch::equal(ours[k], theirs[k]))
        << "gradient " << k << ": largest difference "
        << (ours[k] - theirs[k]).abs().max().item<double>();
  }
}

TEST(TrainStep, SameSeedSameWeightsAndTheAutogradSequenceBitForBit) {
  std::vector<double> a_losses, b_losses, c_losses;
  const auto a = train_steps(true, 6, &a_losses);
  const auto b = train_steps(true, 6, &b_losses);
  const auto c = train_steps(false, 6, &c_losses);
  ASSERT_EQ(a.size(), c.size());
  for (size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(torch::equal(a[k], b[k])) << "parameter " << k << ": not deterministic";
    EXPECT_TRUE(torch::equal(a[k], c[k]))
        << "parameter " << k << ": largest difference from the autograd sequence "
        << (a[k] - c[k]).abs().max().item<double>();
  }
  EXPECT_EQ(a_losses, b_losses);
  EXPECT_EQ(a_losses, c_losses);
  // Training lowers the loss on these images (a smoke check that it trains at all).
  EXPECT_LT(a_losses.back(), a_losses.front());
}
