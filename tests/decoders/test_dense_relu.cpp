// The dense ReLU decoder's hand-written passes against LibTorch's autograd on the same module;
// its activation pattern; a decoder without hidden layers; layers that do not chain.
#include <gtest/gtest.h>

#include "decoders/dense_relu.h"
#include "tiny_decoder.h"
#include "util/error.h"

using namespace preimage;

TEST(Engine, ForwardMatchesTheModule) {
  auto dec = test_support::tiny_decoder();
  decoders::DenseReluDecoder engine(dec);
  auto y = torch::randn({7, 2});
  auto expected = dec->forward(y).detach();
  EXPECT_TRUE(torch::allclose(engine.forward(y), expected, 1e-6, 1e-6));
}

TEST(Engine, BackwardAndJacobianMatchAutograd) {
  auto dec = test_support::tiny_decoder(3, 10, 5, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y = torch::randn({4, 3}, torch::kFloat64);
  auto g = torch::randn({4, 10}, torch::kFloat64);
  decoders::Trace trace;
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

TEST(Engine, ActivationPatternMarksTheLinearRegion) {
  auto dec = test_support::tiny_decoder(2, 10, 3, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y = torch::randn({6, 2}, torch::kFloat64);
  decoders::Trace trace;
  engine.forward(y, &trace);
  auto pattern = engine.activation_pattern(trace);
  ASSERT_EQ(pattern.sizes(), (std::vector<int64_t>{6, 2 * 24}));  // two hidden layers of 24
  // A tiny move inside the region keeps the pattern and the Jacobian.
  decoders::Trace near;
  engine.forward(y + 1e-9, &near);
  auto same = engine.activation_pattern(near).eq(pattern).all(1);
  auto J = engine.jacobian(trace), J_near = engine.jacobian(near);
  for (int64_t b = 0; b < 6; ++b)
    if (same[b].item<bool>()) EXPECT_TRUE(torch::equal(J[b], J_near[b])) << "point " << b;
}

TEST(Engine, WithoutHiddenLayersTheDecoderIsAffine) {
  auto w = torch::randn({5, 2}, torch::kFloat64), b = torch::randn({5}, torch::kFloat64);
  decoders::DenseReluDecoder engine({w}, {b});
  auto y = torch::randn({3, 2}, torch::kFloat64);
  decoders::Trace trace;
  EXPECT_TRUE(torch::allclose(engine.forward(y, &trace), y.mm(w.t()) + b));
  auto J = engine.jacobian(trace);
  for (int64_t i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(J[i], w.t()));
  EXPECT_TRUE(torch::allclose(engine.backward(trace, torch::ones({3, 5}, torch::kFloat64)),
                              w.sum(0).expand({3, 2})));
  EXPECT_EQ(engine.activation_pattern(trace).size(1), 0);
}

TEST(Engine, LayersThatDoNotChainAreRefused) {
  EXPECT_THROW(decoders::DenseReluDecoder({torch::zeros({4, 2}), torch::zeros({5, 3})},
                                          {torch::zeros({4}), torch::zeros({5})}),
               UserError);
  EXPECT_THROW(decoders::DenseReluDecoder({torch::zeros({4, 2})}, {torch::zeros({3})}), UserError);
}
