// The thesis's optimizer: Keras 3 Adafactor, checked by hand and against a scalar reference;
// and the batched inversion equals the one-image-at-a-time inversion.
#include <cmath>

#include <gtest/gtest.h>

#include "solvers/adafactor.h"
#include "solvers/invert.h"
#include "tiny_decoder.h"

using namespace preimage;

TEST(Adafactor, TwoStepsByHand) {
  solvers::Adafactor opt(solvers::SolverSettings{});
  auto y = torch::tensor({{3.0, 4.0}}, torch::kFloat64);
  auto v = torch::zeros_like(y);
  // Step 1: beta_2 = 1 - 1^-0.8 = 0, so v = g^2 + 1e-30 and u = sign(g); rms(u) = 1, no clip.
  // alpha = max(1e-3, rms(y)) * min(1e-3, 1/sqrt(1)) = sqrt(12.5) * 1e-3.
  opt.step(y, v, torch::tensor({{1.0, -2.0}}, torch::kFloat64), 1);
  const double a1 = std::sqrt(12.5) * 1e-3;
  EXPECT_NEAR(y[0][0].item<double>(), 3.0 - a1, 1e-15);
  EXPECT_NEAR(y[0][1].item<double>(), 4.0 + a1, 1e-15);
  EXPECT_NEAR(v[0][1].item<double>(), 4.0, 1e-15);
  // Step 2 with g = (0.5, 0.5): beta_2 = 1 - 2^-0.8 = 0.42565082250148...
  const double y0 = 3.0 - a1, y1 = 4.0 + a1;
  const double beta = 1.0 - std::pow(2.0, -0.8);
  const double v0 = beta * 1.0 + (1 - beta) * 0.25, v1 = beta * 4.0 + (1 - beta) * 0.25;
  const double u0 = 0.5 / std::sqrt(v0), u1 = 0.5 / std::sqrt(v1);
  const double rms_u = std::sqrt((u0 * u0 + u1 * u1) / 2);  // 0.536 < 1: no clipping
  ASSERT_LT(rms_u, 1.0);
  const double a2 = std::sqrt((y0 * y0 + y1 * y1) / 2) * 1e-3;
  opt.step(y, v, torch::tensor({{0.5, 0.5}}, torch::kFloat64), 2);
  EXPECT_NEAR(y[0][0].item<double>(), y0 - a2 * u0, 1e-15);
  EXPECT_NEAR(y[0][1].item<double>(), y1 - a2 * u1, 1e-15);
}

TEST(Adafactor, ClipsLargeUpdates) {
  // With v much smaller than g^2 (v from a tiny first gradient), rms(u) > 1 is scaled to 1.
  solvers::Adafactor opt(solvers::SolverSettings{});
  auto y = torch::tensor({{0.0, 0.0}}, torch::kFloat64);  // rms(y) = 0: alpha uses epsilon_2
  auto v = torch::tensor({{1e-8, 1e-8}}, torch::kFloat64);
  opt.step(y, v, torch::tensor({{1.0, 1.0}}, torch::kFloat64), 3);
  // u = 1/sqrt(v) equal in both coordinates, clipped to rms 1: u = (1, 1); alpha = 1e-3 * 1e-3.
  EXPECT_NEAR(y[0][0].item<double>(), -1e-6, 1e-18);
}

TEST(Adafactor, MatchesAScalarReferenceOver150Steps) {
  // An independent, image-by-image implementation of Keras's update_step with autograd
  // gradients, in double precision.
  auto dec = test_support::tiny_decoder(2, 16, 11, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto z = (torch::rand({3, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto start = torch::randn({3, 2}, torch::kFloat64);
  solvers::Objective f(engine, {}, z);
  auto sol = solvers::Adafactor(solvers::SolverSettings{}).solve(f, start);

  for (int64_t i = 0; i < 3; ++i) {
    double y[2] = {start[i][0].item<double>(), start[i][1].item<double>()};
    double v[2] = {0, 0};
    for (int t = 1; t <= 150; ++t) {
      auto ya = torch::tensor({{y[0], y[1]}}, torch::kFloat64).requires_grad_(true);
      (torch::sigmoid(dec->forward(ya)) - z[i]).square().sum().backward();
      const double g[2] = {ya.grad()[0][0].item<double>(), ya.grad()[0][1].item<double>()};
      const double rho = std::min(1e-3, 1 / std::sqrt(t));
      const double alpha = std::max(1e-3, std::sqrt((y[0] * y[0] + y[1] * y[1]) / 2)) * rho;
      const double beta = 1 - std::pow(t, -0.8);
      double u[2];
      for (int k = 0; k < 2; ++k) {
        v[k] = beta * v[k] + (1 - beta) * (g[k] * g[k] + 1e-30);
        u[k] = g[k] / std::sqrt(v[k]);
      }
      const double clip = std::max(1.0, std::sqrt((u[0] * u[0] + u[1] * u[1]) / 2) / 1.0);
      for (int k = 0; k < 2; ++k) y[k] -= alpha * u[k] / clip;
    }
    EXPECT_NEAR(sol.latents[i][0].item<double>(), y[0], 1e-10) << "image " << i;
    EXPECT_NEAR(sol.latents[i][1].item<double>(), y[1], 1e-10) << "image " << i;
  }
  // The reported losses are the objective at the start and at the returned point.
  EXPECT_TRUE(torch::allclose(sol.initial_loss, f.value(start)));
  EXPECT_TRUE(torch::allclose(sol.final_loss, f.value(sol.latents)));
  EXPECT_TRUE((sol.iterations == 150).all().item<bool>());
}

TEST(Invert, BatchedEqualsAlone) {
  auto dec = test_support::tiny_decoder(2, 16, 13);
  decoders::DenseReluDecoder engine(dec);
  auto z = (torch::rand({50, 16}) > 0.5).to(torch::kFloat32);
  auto start = torch::randn({50, 2});
  solvers::InvertRequest req;
  req.show_progress = false;
  req.curve_images = {7};
  req.chunk_size = 50;  // one chunk
  auto batched = solvers::invert(engine, z, start, req);
  for (int64_t i : {0, 7, 31, 49}) {
    solvers::InvertRequest alone = req;
    alone.curve_images = {};
    auto one = solvers::invert(engine, z.slice(0, i, i + 1), start.slice(0, i, i + 1), alone);
    // float32 products of a batch and of a single row may round differently (GEMM vs GEMV
    // kernels); 150 steps of size ~1e-3 |y| keep such differences at the 1e-6 level.
    EXPECT_TRUE(torch::allclose(one.latents[0], batched.latents[i], 1e-5, 1e-6))
        << "image " << i << ": " << one.latents[0] << " vs " << batched.latents[i];
    EXPECT_NEAR(one.final_loss[0].item<double>(), batched.final_loss[i].item<double>(), 1e-4);
  }
  // Chunks of 7 give the same answer as one chunk.
  solvers::InvertRequest chunked = req;
  chunked.chunk_size = 7;
  auto c = solvers::invert(engine, z, start, chunked);
  EXPECT_TRUE(torch::allclose(c.latents, batched.latents, 1e-5, 1e-6));
  ASSERT_EQ(c.curves.size(0), 1);
  EXPECT_TRUE(torch::allclose(c.curves, batched.curves, 1e-5, 1e-5));
  EXPECT_NEAR(batched.curves[0][0].item<double>(), batched.initial_loss[7].item<double>(), 1e-5);
  EXPECT_NEAR(batched.curves[0][150].item<double>(), batched.final_loss[7].item<double>(), 1e-5);
}
