// The engine's derivatives against central finite differences, in float64 (the engine works in
// the tensor's dtype): the gradient of every loss (with a mask and a prior term), the Jacobian of
// the logits, and the Gauss-Newton matrix J^T W J.
#include <gtest/gtest.h>

#include "solvers/objective.h"
#include "tiny_decoder.h"

using namespace preimage;

namespace {
constexpr double kStep = 1e-6;  // central differences: error ~ step^2 * f''' ~ 1e-12
constexpr double kTol = 1e-6;   // relative to the derivative's scale

// Latents away from ReLU kinks is not guaranteed; a kink within kStep of a point is so unlikely
// (probability ~ 1e-6 per unit) that fixed seeds make these tests deterministic.
torch::Tensor latents() {
  torch::manual_seed(11);
  return torch::randn({6, 2}, torch::kFloat64);
}
}  // namespace

class Gradient : public ::testing::TestWithParam<solvers::LossKind> {};

TEST_P(Gradient, MatchesFiniteDifferences) {
  auto dec = test_support::tiny_decoder(2, 16, 7, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y = latents();
  auto z = (torch::rand({6, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  solvers::Objective f(engine, test_support::masked_loss_with_prior(GetParam(), 0.05, 16), z);
  auto e = f.evaluate(y, /*need_grad=*/true);
  double worst = 0;
  for (int64_t k = 0; k < 2; ++k) {
    auto dy = torch::zeros_like(y);
    dy.select(1, k).fill_(kStep);
    auto fd = (f.value(y + dy) - f.value(y - dy)) / (2 * kStep);
    worst = std::max(worst, (fd - e.grad.select(1, k)).abs().max().item<double>());
  }
  std::printf("largest gradient difference: %.3g\n", worst);
  EXPECT_LT(worst, kTol * (1 + e.grad.abs().max().item<double>()));
}

INSTANTIATE_TEST_SUITE_P(Losses, Gradient,
                         ::testing::Values(solvers::LossKind::kSquaredError,
                                           solvers::LossKind::kBernoulli));

TEST(Jacobian, MatchesFiniteDifferencesAndGivesTheGaussNewtonMatrix) {
  auto dec = test_support::tiny_decoder(3, 10, 9, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  torch::manual_seed(12);
  auto y = torch::randn({5, 3}, torch::kFloat64);
  decoders::Trace trace;
  engine.forward(y, &trace);
  auto J = engine.jacobian(trace);  // (B, L, P)
  ASSERT_EQ(J.sizes(), (std::vector<int64_t>{5, 3, 10}));
  auto fd = torch::empty_like(J);
  for (int64_t k = 0; k < 3; ++k) {
    auto dy = torch::zeros_like(y);
    dy.select(1, k).fill_(kStep);
    fd.select(1, k).copy_((engine.forward(y + dy) - engine.forward(y - dy)) / (2 * kStep));
  }
  const double diff = (fd - J).abs().max().item<double>();
  std::printf("largest Jacobian difference: %.3g\n", diff);
  EXPECT_LT(diff, kTol * (1 + J.abs().max().item<double>()));

  // The Gauss-Newton matrix of the squared error: J_s^T J_s * 2 with J_s = s'(logit) J.
  auto z = torch::rand({5, 10}, torch::kFloat64);
  solvers::Objective f(engine, {}, z);
  auto e = f.evaluate(y, true, /*need_gauss_newton=*/true);
  auto s = torch::sigmoid(engine.forward(y));
  auto Js = J * (s * (1 - s)).unsqueeze(1);  // (B, L, P)
  auto expected = 2 * torch::bmm(Js, Js.transpose(1, 2));
  EXPECT_TRUE(torch::allclose(e.gn, expected, 1e-10, 1e-12));
}

// With the Gauss-Newton matrix the gradient comes from the Jacobian, otherwise from a backward
// pass: the two must agree (mask and prior included), also on a subset of decoded points.
TEST(Objective, GradientFromTheJacobianEqualsTheBackwardPass) {
  auto dec = test_support::tiny_decoder(2, 16, 13, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y = latents();
  auto z = (torch::rand({6, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  for (auto kind : {solvers::LossKind::kSquaredError, solvers::LossKind::kBernoulli}) {
    solvers::Objective f(engine, test_support::masked_loss_with_prior(kind, 0.05, 16), z);
    auto backward = f.evaluate(y, /*need_grad=*/true);
    auto with_gn = f.evaluate(y, /*need_grad=*/true, /*need_gauss_newton=*/true);
    EXPECT_TRUE(torch::allclose(backward.grad, with_gn.grad, 1e-10, 1e-12));
    EXPECT_TRUE(torch::allclose(backward.value, with_gn.value, 0, 0));

    auto rows = torch::tensor({4, 1}, torch::kInt64);
    auto decoded = f.decode(y).select(rows);
    auto sub = f.restrict_to(rows);
    auto e = sub.evaluate(decoded, true, true);
    EXPECT_TRUE(torch::allclose(e.grad, backward.grad.index_select(0, rows), 1e-10, 1e-12));
    EXPECT_TRUE(torch::allclose(sub.value(decoded), backward.value.index_select(0, rows), 0, 0));
    EXPECT_TRUE(torch::allclose(e.gn, with_gn.gn.index_select(0, rows), 1e-12, 1e-14));
  }
}

// A solver may hand in the Jacobian of a nearby point (Gauss-Newton keeps it across small steps):
// rows marked stale get the exact gradient of a backward pass, and the Gauss-Newton matrix of
// the Jacobian given.
TEST(Objective, StaleJacobianRowsTakeTheGradientOfTheBackwardPass) {
  auto dec = test_support::tiny_decoder(2, 16, 13, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y = latents();
  auto z = (torch::rand({6, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  solvers::Objective f(engine, test_support::masked_loss_with_prior(
                                   solvers::LossKind::kSquaredError, 0.05, 16), z);
  auto exact = f.evaluate(y, /*need_grad=*/true, /*need_gauss_newton=*/true);
  auto nearby = f.evaluate(y + 0.3, true, true).jacobian;  // other linear regions
  auto stale = torch::tensor({true, false, true, false, false, true});
  auto e = f.evaluate(f.decode(y), true, true, nearby, stale);
  auto from_nearby = f.evaluate(f.decode(y), true, true, nearby);
  EXPECT_TRUE(torch::allclose(e.grad, torch::where(stale.unsqueeze(1), exact.grad, from_nearby.grad),
                              1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(e.gn, from_nearby.gn, 0, 0));
  // The Jacobian given is really another one: without `stale` the gradient would be wrong.
  EXPECT_FALSE(torch::allclose(from_nearby.grad.index_select(0, stale.nonzero().view({-1})),
                               exact.grad.index_select(0, stale.nonzero().view({-1})), 1e-6, 1e-8));
}

TEST(Objective, GradientAndGaussNewtonMatchAutograd) {
  auto dec = test_support::tiny_decoder(2, 12, 7, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
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
