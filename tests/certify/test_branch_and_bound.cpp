// Branch and bound against brute force on tiny decoders: over many random images, boxes, both
// losses, grey images, a mask and a prior, the certified lower bound never exceeds the least loss
// of a fine grid (the true minimum is at most that), and the incumbent is within the tolerance
// of it; the gap closes as the tolerance shrinks; a deliberately wrong bound is caught by the
// same check; an optimum at the box's border is flagged.
#include <gtest/gtest.h>

#include "certify/branch_and_bound.h"
#include "util/error.h"
#include "certify_support.h"
#include "tiny_decoder.h"

namespace preimage::certify {
namespace {
using solvers::LossKind;
using test_support::f64;

// Float tolerance of the comparison with brute force: both sides are float64 sums of a few
// dozen terms, so anything above 1e-12 relative is a wrong bound, not rounding.
constexpr double kFloatTolerance = 1e-12;

// The least loss of each image over a grid of n x n points of [-r, r]^2, and where.
struct GridMinimum {
  torch::Tensor value;  // (B)
  torch::Tensor point;  // (B, 2)
};
GridMinimum grid_minimum(const DenseNetwork& net, LossKind kind, double prior,
                         const torch::Tensor& z, const torch::Tensor& mask, double r, int64_t n) {
  auto axis = torch::linspace(-r, r, n, f64());
  auto grid = torch::stack(torch::meshgrid({axis, axis}, "ij"), 2).view({-1, 2});
  GridMinimum best{torch::full({z.size(0)}, 1e300, f64()), torch::zeros({z.size(0), 2}, f64())};
  for (int64_t i = 0; i < grid.size(0); i += 65536) {
    auto points = grid.slice(0, i, i + 65536);
    auto [v, at] = test_support::brute_force_losses(net, kind, prior, z, mask, points).min(1);
    auto better = v < best.value;
    best.value = torch::where(better, v, best.value);
    best.point = torch::where(better.unsqueeze(1), points.index_select(0, at), best.point);
  }
  return best;
}

struct Violations {
  int64_t bound_above_grid = 0;    // lower_bound > the grid's least loss: a wrong certificate
  int64_t incumbent_too_high = 0;  // certified, yet the grid found a point below the tolerance
};

// The check every case below makes.
Violations check(const Certificate& cert, const GridMinimum& grid, double tolerance) {
  auto margin = (grid.value.abs() + 1) * kFloatTolerance;
  Violations v;
  v.bound_above_grid = (cert.lower_bound > grid.value + margin).sum().item<int64_t>();
  auto floor = cert.incumbent - cert.incumbent.abs().clamp_min(1) * tolerance;
  v.incumbent_too_high =
      cert.certified.logical_and(grid.value < floor - margin).sum().item<int64_t>();
  return v;
}

struct Case {
  LossKind kind;
  bool grey, masked;
  double prior, radius;
  uint64_t seed;
};

TEST(BranchAndBound, NeverBoundsAboveTheTrueMinimum) {
  const Case cases[] = {
      {LossKind::kSquaredError, false, false, 0, 2.0, 21},
      {LossKind::kSquaredError, false, true, 0, 3.0, 22},
      {LossKind::kSquaredError, true, false, 0, 1.0, 23},
      {LossKind::kSquaredError, true, true, 0.1, 2.5, 24},
      {LossKind::kBernoulli, false, false, 0, 2.0, 25},
      {LossKind::kBernoulli, false, true, 0.5, 3.0, 26},
      {LossKind::kBernoulli, true, false, 0, 1.5, 27},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "seed " << c.seed);
    torch::manual_seed(c.seed);
    auto net = dense_network(test_support::tiny_dense(2, 16, c.seed));
    const int64_t B = 24;
    auto z = test_support::random_images(B, 16, c.grey);
    // Half the images are the decoder's own outputs (binarized): a sharp optimum.
    auto own = torch::sigmoid(net.forward(torch::rand({B / 2, 2}, f64()) * 2 * c.radius -
                                          c.radius));
    z.slice(0, 0, B / 2).copy_(c.grey ? own : (own > 0.5).to(torch::kFloat64));
    torch::Tensor mask;
    if (c.masked) mask = (torch::rand({B, 16}, f64()) > 0.3).to(torch::kFloat64);
    CertifyOptions options;
    options.radius = c.radius;
    options.initial_cells = 8;
    options.max_cells = 200000;
    // Poor starting points: the search must find the optimum itself.
    auto start = torch::rand({B, 2}, f64()) * 2 * c.radius - c.radius;
    auto cert = certify(net, c.kind, c.prior, z, mask, start, options);
    auto grid = grid_minimum(net, c.kind, c.prior, z, mask, c.radius, 801);
    auto v = check(cert, grid, options.tolerance);
    EXPECT_EQ(v.bound_above_grid, 0);
    EXPECT_EQ(v.incumbent_too_high, 0);
    EXPECT_EQ(cert.certified.sum().item<int64_t>(), B);
    EXPECT_TRUE(cert.lower_bound.le(cert.incumbent).all().item<bool>());
    // The incumbent is the loss at its point.
    auto at_point = test_support::brute_force_losses(net, c.kind, c.prior, z, mask, cert.point)
                        .diagonal();
    EXPECT_TRUE(torch::allclose(at_point, cert.incumbent, 1e-12, 1e-12));
    EXPECT_TRUE(cert.gap().le(options.tolerance).all().item<bool>());
    // Deep cells lie in one linear region or hold few kinks: many are bounded without the
    // whole network.
    EXPECT_LT(cert.network_cells, cert.distinct_cells);
    EXPECT_GT(cert.local_cells, 0);
  }
}

TEST(BranchAndBound, TheBoxInPartsJoinsToACertificateOfTheWholeBox) {
  torch::manual_seed(29);
  auto net = dense_network(test_support::tiny_dense(2, 16, 29));
  const int64_t B = 24;
  auto z = test_support::random_images(B, 16, false);
  CertifyOptions options;
  options.radius = 2.0;
  options.initial_cells = 8;  // 64 first cells
  auto start = torch::rand({B, 2}, f64()) * 4 - 2;
  auto whole = certify(net, LossKind::kSquaredError, 0, z, {}, start, options);
  std::vector<Certificate> parts;
  for (auto range : {std::pair<int64_t, int64_t>{0, 10}, {10, 37}, {37, 64}})
    parts.push_back(certify_part(net, LossKind::kSquaredError, 0, z, {}, start, options, range));
  auto joined = join_parts(parts, options);
  auto grid = grid_minimum(net, LossKind::kSquaredError, 0, z, {}, 2.0, 801);
  auto v = check(joined, grid, options.tolerance);
  EXPECT_EQ(v.bound_above_grid, 0);
  EXPECT_EQ(v.incumbent_too_high, 0);
  EXPECT_EQ(joined.certified.sum().item<int64_t>(), B);
  // The same optima as the whole box's, to the tolerance.
  EXPECT_TRUE((joined.incumbent - whole.incumbent)
                  .abs()
                  .le(whole.incumbent.abs().clamp_min(1) * options.tolerance)
                  .all()
                  .item<bool>());
  // Each part bounds its patch only: alone, some part's bound is above the box's minimum.
  int64_t above = 0;
  for (const auto& p : parts) above += check(p, grid, options.tolerance).bound_above_grid;
  EXPECT_GT(above, 0);
  // The parts share no cell: the first level is bounded once.
  int64_t first = 0;
  for (const auto& p : parts) first += p.distinct_cells;
  EXPECT_EQ(joined.distinct_cells, first);
  EXPECT_THROW(certify_part(net, LossKind::kSquaredError, 0, z, {}, start, options, {5, 65}),
               UserError);
}

TEST(BranchAndBound, AWrongBoundIsCaught) {
  // The test hook raises every bound by 1% of itself: the same check must see it.
  torch::manual_seed(31);
  auto net = dense_network(test_support::tiny_dense(2, 16, 31));
  auto z = test_support::random_images(24, 16, false);
  CertifyOptions options;
  options.radius = 2.0;
  options.initial_cells = 8;
  options.unsound_slack_for_tests = 0.01;
  auto start = torch::zeros({24, 2}, f64());
  auto cert = certify(net, LossKind::kSquaredError, 0, z, {}, start, options);
  auto grid = grid_minimum(net, LossKind::kSquaredError, 0, z, {}, 2.0, 801);
  auto v = check(cert, grid, options.tolerance);
  EXPECT_GT(v.bound_above_grid + v.incumbent_too_high, 0);
}

TEST(BranchAndBound, TheGapClosesAsTheToleranceShrinks) {
  torch::manual_seed(41);
  auto net = dense_network(test_support::tiny_dense(2, 16, 41));
  auto z = test_support::random_images(16, 16, true);
  auto start = torch::zeros({16, 2}, f64());
  double previous = 1;
  int64_t previous_cells = 0;
  for (double tolerance : {1e-2, 1e-4, 1e-6, 1e-8}) {
    CertifyOptions options;
    options.radius = 2.0;
    options.initial_cells = 8;
    options.tolerance = tolerance;
    auto cert = certify(net, LossKind::kSquaredError, 0, z, {}, start, options);
    ASSERT_TRUE(cert.certified.all().item<bool>()) << tolerance;
    auto gap = cert.gap().max().item<double>();
    EXPECT_LE(gap, tolerance);
    EXPECT_LE(gap, previous);
    EXPECT_GE(cert.cells.sum().item<int64_t>(), previous_cells);
    previous = gap;
    previous_cells = cert.cells.sum().item<int64_t>();
  }
}

TEST(BranchAndBound, ABudgetTooSmallLeavesImagesUncertifiedWithAValidBound) {
  torch::manual_seed(51);
  auto net = dense_network(test_support::tiny_dense(2, 16, 51));
  auto z = test_support::random_images(16, 16, false);
  CertifyOptions options;
  options.radius = 3.0;
  options.initial_cells = 4;
  options.max_cells = 20;
  options.tolerance = 1e-10;
  auto cert = certify(net, LossKind::kSquaredError, 0, z, {}, torch::zeros({16, 2}, f64()),
                      options);
  EXPECT_LT(cert.certified.sum().item<int64_t>(), 16);
  auto grid = grid_minimum(net, LossKind::kSquaredError, 0, z, {}, 3.0, 401);
  EXPECT_EQ(check(cert, grid, options.tolerance).bound_above_grid, 0);
}

TEST(BranchAndBound, FlagsAnOptimumAtTheBorderOfTheBox) {
  // logits = (relu(y_1) + relu(y_2)) / 2 for every pixel: an all-ones image's loss falls as y
  // grows, so its optimum over the box is its corner (r, r), and beyond the box there are lower
  // points; an all-zeros image's optimum is the quadrant y <= 0, inside the box.
  std::vector<torch::Tensor> w{torch::eye(2), torch::full({16, 2}, 0.5f)};
  std::vector<torch::Tensor> b{torch::zeros({2}), torch::zeros({16})};
  auto net = dense_network(decoders::DenseReluDecoder(w, b));
  auto z = torch::ones({2, 16}, f64());
  z[1].zero_();
  CertifyOptions options;
  options.radius = 2.0;
  options.initial_cells = 4;
  auto cert = certify(net, LossKind::kSquaredError, 0, z, {}, torch::zeros({2, 2}, f64()),
                      options);
  EXPECT_TRUE(cert.certified.all().item<bool>());
  EXPECT_TRUE(cert.at_edge[0].item<bool>());
  EXPECT_FALSE(cert.at_edge[1].item<bool>());
  EXPECT_NEAR(cert.point[0][0].item<double>(), 2.0, 0.01);
  EXPECT_NEAR(cert.point[0][1].item<double>(), 2.0, 0.01);
}

TEST(BranchAndBound, RefusesWhatItCannotCertify) {
  auto net = dense_network(test_support::tiny_dense(4, 16, 3));
  auto z = torch::zeros({2, 16}, f64());
  EXPECT_THROW(certify(net, LossKind::kSquaredError, 0, z, {}, torch::zeros({2, 4}, f64()), {}),
               std::exception);
  auto net2 = dense_network(test_support::tiny_dense(2, 16, 3));
  EXPECT_THROW(certify(net2, LossKind::kSquaredError, 0, torch::zeros({2, 9}, f64()), {},
                       torch::zeros({2, 2}, f64()), {}),
               std::exception);
}

}  // namespace
}  // namespace preimage::certify
