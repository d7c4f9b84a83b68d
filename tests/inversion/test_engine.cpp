// The hand-written decoder engine against LibTorch's autograd on the same module.
#include <gtest/gtest.h>

#include "solvers/decoder_engine.h"
#include "solvers/objective.h"
#include "tiny_decoder.h"

using namespace preimage;

TEST(Engine, ForwardMatchesTheModule) {
  auto dec = test_support::tiny_decoder();
  solvers::DecoderEngine engine(dec);
  auto y = torch::randn({7, 2});
  auto expected = dec->forward(y).detach();
  EXPECT_TRUE(torch::allclose(engine.forward(y), expected, 1e-6, 1e-6));
}

TEST(Engine, BackwardAndJacobianMatchAutograd) {
  auto dec = test_support::tiny_decoder(3, 10, 5, torch::kFloat64);
  solvers::DecoderEngine engine(dec);
  auto y = torch::randn({4, 3}, torch::kFloat64);
  auto g = torch::randn({4, 10}, torch::kFloat64);
  solvers::Trace trace;
  engine.forward(y, &trace);
  auto ours = engine.backward(trace, g);
  auto ya = y.clone().requires_grad_(true);
  (dec->forward(ya) * g).sum().backward();
  EXPECT_TRUE(torch::allclose(ours, ya.grad(), 1e-12, 1e-12));

  auto J = engine.jacobian(trace);  // (B, L, P)
  ASSERT_EQ(J.sizes(), (std::vector<int64_t>{4, 3, 10}));
  for (int64_t p = 0; p < 10; ++p) {
    auto yp = y.clone().requires_grad_(true);
    dec->forward(yp).select(1, p).sum().backward();
    EXPECT_TRUE(torch::allclose(J.select(2, p), yp.grad(), 1e-12, 1e-12)) << "pixel " << p;
  }
}

TEST(Objective, GradientAndGaussNewtonMatchAutograd) {
  auto dec = test_support::tiny_decoder(2, 12, 7, torch::kFloat64);
  solvers::DecoderEngine engine(dec);
  auto z = (torch::rand({5, 12}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto y = torch::randn({5, 2}, torch::kFloat64);
  for (auto kind : {solvers::LossKind::kSquaredError, solvers::LossKind::kBernoulli}) {
    const auto spec = test_support::masked_loss_with_prior(kind, 0.3, 12);
    solvers::Objective f(engine, spec, z);
    auto e = f.evaluate(y, true, true);

    auto ya = y.clone().requires_grad_(true);
    auto logits = dec->forward(ya);
    torch::Tensor data_term;
    if (kind == solvers::LossKind::kSquaredError) {
      data_term = ((torch::sigmoid(logits) - z).square() * spec.mask).sum(1);
    } else {
      data_term = (torch::binary_cross_entropy_with_logits(logits, z, {}, {},
                                                           at::Reduction::None) * spec.mask).sum(1);
    }
    auto value = data_term + 0.3 * ya.square().sum(1);
    value.sum().backward();
    EXPECT_TRUE(torch::allclose(e.value, value.detach(), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(e.grad, ya.grad(), 1e-10, 1e-10));
    // Gauss-Newton is symmetric positive semi-definite (plus the prior's 2 lambda I).
    EXPECT_TRUE(torch::allclose(e.gn, e.gn.transpose(1, 2)));
    auto eig = torch::linalg::eigvalsh(e.gn, "L");
    EXPECT_GE(eig.min().item<double>(), 2 * 0.3 - 1e-9);
  }
}
