// Grid search against a brute-force oracle, and its global reach.
#include <gtest/gtest.h>

#include "solvers/grid.h"
#include "solvers/invert.h"
#include "tiny_decoder.h"
#include "util/error.h"

using namespace preimage;

namespace {
solvers::SolverSettings grid_settings(int64_t points, double radius) {
  auto s = solvers::settings_for("grid");
  s.options.grid.points = points;
  s.options.grid.radius = radius;
  return s;
}
}  // namespace

TEST(Grid, MatchesABruteForceOracle) {
  auto dec = test_support::tiny_decoder(2, 16, 31);
  decoders::DenseReluDecoder engine(dec);
  auto z = (torch::rand({12, 16}) > 0.5).to(torch::kFloat32);
  for (auto kind : {solvers::LossKind::kSquaredError, solvers::LossKind::kBernoulli}) {
    solvers::LossSpec spec;
    spec.kind = kind;
    spec.prior_weight = 0.01;
    spec.mask = (torch::arange(16) % 4 != 1).to(torch::kFloat32);
    solvers::Objective f(engine, spec, z);
    solvers::GridSearch grid(grid_settings(21, 3.0));
    auto [points, loss] = grid.best_grid_points(f);
    // The oracle: evaluate the full objective at every grid point for every image.
    auto all = solvers::DecodedGrid::make_points(2, 21, 3.0);
    for (int64_t i = 0; i < 12; ++i) {
      auto fi = f.restrict_to(torch::tensor({i}));
      double best = 1e30;
      for (int64_t g = 0; g < all.size(0); ++g)
        best = std::min(best, fi.value(all.slice(0, g, g + 1))[0].item<double>());
      EXPECT_NEAR(loss[i].item<double>(), best, 1e-4 * (1 + best)) << "image " << i;
    }
  }
}

TEST(Grid, FindsTheGlobalBasinThatALocalMethodMisses) {
  auto dec = test_support::tiny_decoder(2, 16, 41, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  auto y_star = torch::tensor({{2.5, -2.0}}, torch::kFloat64);
  auto z = torch::sigmoid(engine.forward(y_star));
  solvers::Objective f(engine, {}, z);
  auto far_start = torch::tensor({{-2.5, 2.5}}, torch::kFloat64);
  auto settings = grid_settings(61, 3.5);
  settings.stop.gradient_tolerance = 1e-9;
  auto sol = solvers::GridSearch(settings).solve(f, far_start);
  EXPECT_LT(sol.final_loss[0].item<double>(), 1e-8);
  EXPECT_LT((sol.latents - y_star).abs().max().item<double>(), 1e-4) << sol.latents;
  EXPECT_NEAR(sol.initial_loss[0].item<double>(), f.value(far_start)[0].item<double>(), 1e-12);
}

TEST(Grid, RefusesLargeLatentDimensions) {
  auto dec = test_support::tiny_decoder(4, 16, 1);
  decoders::DenseReluDecoder engine(dec);
  solvers::Objective f(engine, {}, torch::zeros({2, 16}));
  EXPECT_THROW(solvers::GridSearch(grid_settings(5, 1.0)).solve(f, torch::zeros({2, 4})),
               UserError);
}

namespace {
// A decoder that counts its forward passes: the grid's decoding is the only pass of a search.
class CountingDecoder : public decoders::DenseReluDecoder {
 public:
  using DenseReluDecoder::DenseReluDecoder;
  torch::Tensor forward(const torch::Tensor& y, decoders::Trace* trace) const override {
    ++passes;
    return DenseReluDecoder::forward(y, trace);
  }
  mutable int passes = 0;
};
}  // namespace

// invert() prepares one decoded grid for all its chunks; a grid made for another objective is
// not reused, and chunked results equal the unchunked ones.
TEST(Grid, ChunksShareOneDecodedGrid) {
  auto dec = test_support::tiny_decoder(2, 16, 5);
  CountingDecoder engine(dec);
  auto z = (torch::rand({10, 16}) > 0.5).to(torch::kFloat32);
  solvers::Objective f(engine, {}, z);
  auto settings = grid_settings(41, 3.0);
  settings.options.grid.refine = solvers::Refinement::parse("quadratic");
  solvers::GridSearch grid(settings);
  grid.prepare(f);
  const int decoded = engine.passes;
  ASSERT_GT(decoded, 0);
  grid.search(f.restrict_to(torch::arange(3, 7)));
  EXPECT_EQ(engine.passes, decoded) << "a second chunk decoded the grid again";
  solvers::LossSpec bernoulli;
  bernoulli.kind = solvers::LossKind::kBernoulli;
  grid.search(solvers::Objective(engine, bernoulli, z));
  EXPECT_GT(engine.passes, decoded) << "a grid of another loss was reused";

  solvers::InvertRequest request;
  request.method = "grid";
  request.settings = grid_settings(41, 3.0);
  request.settings.options.grid.refine = solvers::Refinement::parse("quadratic");
  request.show_progress = false;
  request.chunk_size = 10;  // one chunk
  auto start = torch::zeros({10, 2});
  auto whole = solvers::invert(engine, z, start, request);
  request.chunk_size = 3;
  auto chunked = solvers::invert(engine, z, start, request);
  // (Equal up to rounding: the matrix products of other batch sizes may round differently.)
  EXPECT_TRUE(torch::allclose(whole.latents, chunked.latents, 1e-5, 1e-6));
}

// The grid's spacing can miss a narrow basin that the start lies in (on MNIST, the encoder's
// point is better than the grid's for about 0.7% of images, and refining from it gains up to 8%):
// where the start is better than the grid's point, the local method starts from it.
TEST(Grid, RefinesFromTheStartWhereItIsBetterThanTheGridsPoint) {
  auto dec = test_support::tiny_decoder(2, 16, 41, torch::kFloat64);
  {
    torch::NoGradGuard no_grad;  // a rugged decoder: steep first layer, many small basins
    dec->layers().front()->weight.mul_(8);
  }
  decoders::DenseReluDecoder engine(dec);
  torch::manual_seed(7);
  auto z = (torch::rand({300, 16}) > 0.5).to(torch::kFloat64);
  solvers::Objective f(engine, {}, z);
  auto settings = grid_settings(9, 3.5);
  // Starts near local minima (as the encoder's points are): often better than the coarse grid.
  auto random = torch::rand({300, 2}, torch::kFloat64) * 6 - 3;
  auto start = solvers::make_solver("gauss-newton", settings)->solve(f, random).latents +
               0.05 * torch::randn({300, 2}, torch::kFloat64);
  auto sol = solvers::GridSearch(settings).solve(f, start);
  auto local = solvers::make_solver("gauss-newton", settings)->solve(f, start);
  auto from_start =
      f.value(start) < f.value(solvers::GridSearch(settings).search(f).quadratic);
  ASSERT_GT(from_start.sum().item<int64_t>(), 0) << "the fixture does not exercise the rule";
  auto rows = from_start.nonzero().view({-1});
  auto worse = sol.final_loss.index_select(0, rows) >
               local.final_loss.index_select(0, rows) * (1 + 1e-9) + 1e-12;
  EXPECT_EQ(worse.sum().item<int64_t>(), 0)
      << "of " << rows.numel() << " images whose start beats the grid's point";
}

// The secant Jacobian between the best grid point's neighbours: the exact Jacobian there where
// the neighbours share the point's linear region, one-sided at the box's edge, for both losses
// (squared error recovers the logits from the stored sigmoids).
TEST(Grid, SecantJacobianIsTheDecodersJacobianAtTheBestPoint) {
  auto dec = test_support::tiny_decoder(2, 16, 43, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  // Images decoded from latents inside the box, and one beyond its edge (x > 3).
  auto y_star = torch::tensor({{0.3, -0.4}, {1.0, 0.5}, {-0.7, 0.2}, {3.6, 0.1}}, torch::kFloat64);
  auto logits = engine.forward(y_star);
  for (auto kind : {solvers::LossKind::kSquaredError, solvers::LossKind::kBernoulli}) {
    solvers::LossSpec spec;
    spec.kind = kind;
    solvers::Objective f(engine, spec, torch::sigmoid(logits));
    auto found = solvers::GridSearch(grid_settings(601, 3.0)).search(f, /*secant_jacobian=*/true);
    ASSERT_TRUE(found.secant_jacobian.defined());
    EXPECT_NEAR(found.points[3][0].item<double>(), 3.0, 1e-12) << "on the edge";
    auto exact = engine.jacobian(f.decode(found.points).trace);
    auto error = (found.secant_jacobian - exact).abs().amax({1, 2}) /
                 exact.abs().amax({1, 2});  // (B) relative, per image
    // The spacing (0.01) crosses few of the tiny decoder's region boundaries.
    EXPECT_LT(error.median().item<double>(), 1e-6) << error;
    EXPECT_LT(error.max().item<double>(), 0.5) << error;
  }
  solvers::Objective f(engine, {}, torch::sigmoid(logits));
  EXPECT_FALSE(solvers::GridSearch(grid_settings(21, 3.0)).search(f).secant_jacobian.defined());
}
