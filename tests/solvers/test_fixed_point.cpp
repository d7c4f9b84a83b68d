// The fixed-point method on a linear encoder/decoder pair, where everything is known:
// with D(u) = C u (logits) and E(x) = K logit(x), h(u) = u + K C (y* - u), so the iterates
// approach y* with error e_{k+1} = (I - K C) e_k and the contraction factor of Id - E o D is the
// spectral radius of I - K C.
#include <gtest/gtest.h>

#include "decoders/dense_relu.h"
#include "model/mlp.h"
#include "solvers/fixed_point.h"
#include "solvers/invert.h"
#include "util/error.h"

using namespace preimage;

namespace {

// A decoder that is exactly linear: relu(y) - relu(-y) = y through one hidden layer.
model::Mlp linear_decoder(const torch::Tensor& C) {  // C: (P, 2)
  model::Mlp mlp(model::MlpShape{2, 4, 1, C.size(0)});
  torch::NoGradGuard no_grad;
  auto& hidden = mlp->layers()[0];
  hidden->weight.copy_(torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, 0.0}, {0.0, -1.0}}));
  hidden->bias.zero_();
  auto& out = mlp->layers()[1];
  out->weight.copy_(torch::cat({C, -C}, 1));
  out->bias.zero_();
  mlp->to(torch::kFloat64);
  return mlp;
}

std::shared_ptr<const decoders::Encoder> linear_encoder(const torch::Tensor& K) {  // K: (2, P)
  return std::make_shared<decoders::FunctionEncoder>(
      2, [K](const torch::Tensor& x) { return torch::logit(x).mm(K.t()); });
}

}  // namespace

TEST(FixedPoint, ContractionFactorOfALinearPair) {
  // C = pseudo-inverse-friendly 6x2; K chosen so that I - K C = diag(0.5, 0.2).
  torch::manual_seed(5);
  auto C = torch::randn({6, 2}, torch::kFloat64);
  auto target_map = torch::eye(2, torch::kFloat64) -
                    torch::diag(torch::tensor({0.5, 0.2}, torch::kFloat64));  // K C
  auto K = target_map.mm(torch::linalg::pinv(C));                              // K C = target
  auto dec = linear_decoder(C);
  decoders::DenseReluDecoder engine(dec);
  auto y_star = torch::tensor({{0.4, -0.3}, {-0.2, 0.6}}, torch::kFloat64);
  auto z = torch::sigmoid(engine.forward(y_star));
  solvers::Objective f(engine, {}, z);
  f.set_encoder(linear_encoder(K));
  auto settings = solvers::settings_for("fixed-point");
  settings.options.fixed_point.step_tolerance = 1e-12;
  auto start = y_star + torch::tensor({{1.0, 1.0}, {-1.0, 0.5}}, torch::kFloat64);
  auto s = solvers::FixedPoint(settings).solve(f, start);
  EXPECT_TRUE((s.stop_reason == static_cast<int64_t>(solvers::StopReason::kStepNorm)).all().item<bool>())
      << s.stop_reason;
  EXPECT_LT((s.latents - y_star).abs().max().item<double>(), 1e-10);
  auto c = s.diagnostics.at("contraction");
  std::printf("contraction estimates: %.6f %.6f (exact 0.5)\n", c[0].item<double>(),
              c[1].item<double>());
  EXPECT_NEAR(c[0].item<double>(), 0.5, 1e-3);
  EXPECT_NEAR(c[1].item<double>(), 0.5, 1e-3);
  EXPECT_LT(s.diagnostics.at("fixed_point_loss").max().item<double>(), 1e-12);
}

TEST(FixedPoint, AnExpandingPairIsReportedNotConverged) {
  torch::manual_seed(6);
  auto C = torch::randn({6, 2}, torch::kFloat64);
  // I - K C = diag(1.5, 0.2): the first direction expands.
  auto K = (torch::eye(2, torch::kFloat64) - torch::diag(torch::tensor({-1.5, 0.2}, torch::kFloat64)))
               .mm(torch::linalg::pinv(C));
  auto dec = linear_decoder(C);
  decoders::DenseReluDecoder engine(dec);
  auto y_star = torch::tensor({{0.1, 0.2}}, torch::kFloat64);
  solvers::Objective f(engine, {}, torch::sigmoid(engine.forward(y_star)));
  f.set_encoder(linear_encoder(K));
  auto settings = solvers::settings_for("fixed-point");
  settings.box_radius = 5;
  auto s = solvers::FixedPoint(settings).solve(f, y_star + 0.01);
  EXPECT_EQ(s.stop_reason[0].item<int64_t>(), static_cast<int64_t>(solvers::StopReason::kDiverged));
  EXPECT_TRUE(s.left_box[0].item<bool>());
  EXPECT_GT(s.diagnostics.at("contraction")[0].item<double>(), 1.0);
  // The safeguard: the returned point is no worse than the start.
  EXPECT_LE(s.final_loss[0].item<double>(), s.initial_loss[0].item<double>());
}

TEST(FixedPoint, NeedsAnEncoder) {
  torch::manual_seed(7);
  auto dec = linear_decoder(torch::randn({6, 2}, torch::kFloat64));
  decoders::DenseReluDecoder engine(dec);
  solvers::Objective f(engine, {}, torch::rand({1, 6}, torch::kFloat64));
  EXPECT_THROW(solvers::FixedPoint(solvers::settings_for("fixed-point")).solve(f, torch::zeros({1, 2}, torch::kFloat64)), UserError);
}
