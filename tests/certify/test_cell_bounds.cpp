// The logits' zonotope over a cell contains the logits of every sampled point of the cell, and
// the loss's lower bounds are below every sampled loss, for both losses, binary and grey images,
// a mask and a prior; the bounds are tight where the cell lies in one linear region.
#include <gtest/gtest.h>

#include "certify/cell_bounds.h"
#include "certify/loss_bounds.h"
#include "certify_support.h"
#include "tiny_decoder.h"

namespace preimage::certify {
namespace {
using solvers::LossKind;
using test_support::f64;

// Cells of half-widths from 1e-4 to 1, centred anywhere in [-3, 3]^L.
std::pair<torch::Tensor, torch::Tensor> random_cells(int64_t C, int64_t L) {
  auto centers = torch::rand({C, L}, f64()) * 6 - 3;
  auto half = torch::pow(10.0, -4 * torch::rand({C, 1}, f64())).expand({C, L}) *
              (0.5 + torch::rand({C, L}, f64()));
  return {centers, half.contiguous()};
}

// `S` points of each cell: (C, S, L), its corners among them.
torch::Tensor sample_cells(const torch::Tensor& centers, const torch::Tensor& half, int64_t S) {
  const int64_t C = centers.size(0), L = centers.size(1);
  auto e = torch::rand({C, S, L}, f64()) * 2 - 1;
  e.slice(1, 0, 4).copy_(torch::tensor({-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0}, f64())
                             .view({4, 2}).slice(1, 0, L));
  return centers.unsqueeze(1) + e * half.unsqueeze(1);
}

TEST(CellBounds, ContainTheLogitsOfEverySampledPoint) {
  torch::manual_seed(11);
  for (int64_t symbols : {0, 4, 64}) {
    auto net = dense_network(test_support::tiny_dense(2, 16, 5));
    auto [centers, half] = random_cells(200, 2);
    auto b = bound_cells(net, centers, half, symbols);
    auto points = sample_cells(centers, half, 64);
    auto logits = net.forward(points.view({-1, 2})).view({200, 64, 16});
    auto lo = b.lower().unsqueeze(1), hi = b.upper().unsqueeze(1);
    EXPECT_TRUE(logits.ge(lo).all().item<bool>()) << "symbols " << symbols;
    EXPECT_TRUE(logits.le(hi).all().item<bool>()) << "symbols " << symbols;
    // The centre's logits are the network's.
    EXPECT_TRUE(torch::allclose(b.center_logits, net.forward(centers), 1e-12, 1e-12));
  }
}

TEST(CellBounds, MoreSymbolsGiveTighterBounds) {
  torch::manual_seed(12);
  auto net = dense_network(test_support::tiny_dense(2, 16, 6));
  auto centers = torch::rand({100, 2}, f64()) * 4 - 2;
  auto half = torch::full({100, 2}, 0.3, f64());
  auto loose = bound_cells(net, centers, half, 0).radius().mean().item<double>();
  auto tight = bound_cells(net, centers, half, 64).radius().mean().item<double>();
  EXPECT_LT(tight, loose);
}

TEST(CellBounds, AreExactInsideOneLinearRegion) {
  // A cell small enough to fix every ReLU: the logits are affine on it, so the zonotope is the
  // image of the cell (its corners reach the bounds) up to the rounding margins.
  torch::manual_seed(13);
  auto net = dense_network(test_support::tiny_dense(2, 16, 7));
  auto centers = torch::rand({50, 2}, f64()) * 4 - 2;
  auto half = torch::full({50, 2}, 1e-6, f64());
  auto b = bound_cells(net, centers, half, 16);
  auto fixed = b.unstable.eq(0);
  ASSERT_GT(fixed.sum().item<int64_t>(), 40);
  auto points = sample_cells(centers, half, 4);  // the corners
  auto logits = net.forward(points.view({-1, 2})).view({50, 4, 16});
  auto reach_hi = (logits.amax(1) - b.upper()).abs().amax(1);
  auto reach_lo = (logits.amin(1) - b.lower()).abs().amax(1);
  EXPECT_LT(reach_hi.masked_select(fixed).max().item<double>(), 1e-12);
  EXPECT_LT(reach_lo.masked_select(fixed).max().item<double>(), 1e-12);
}

TEST(CellBounds, ChildrenOfALinearCellFollowWithoutTheNetwork) {
  // Split cells in one linear region, three levels deep, by the affine map alone: the children
  // contain their sampled logits and agree with a pass through the network.
  torch::manual_seed(14);
  auto net = dense_network(test_support::tiny_dense(2, 16, 8));
  auto centers = torch::rand({60, 2}, f64()) * 4 - 2;
  auto half = torch::full({60, 2}, 1e-5, f64());
  auto b = bound_cells(net, centers, half, 16);
  auto fixed = b.unstable.eq(0).nonzero().view({-1});
  ASSERT_GT(fixed.size(0), 40);
  auto parents = select_cells(b, fixed);
  parents.generators = parents.generators.slice(1, 0, 2).contiguous();
  centers = centers.index_select(0, fixed);
  half = half.index_select(0, fixed);
  auto signs = torch::tensor({-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0}, f64()).view({4, 2});
  for (int depth = 0; depth < 3; ++depth) {
    auto kids = split_affine(parents, signs);
    half = (half / 2).repeat_interleave(4, 0);
    centers = (centers.unsqueeze(1) + signs.unsqueeze(0) * half.view({-1, 4, 2})).reshape({-1, 2});
    const int64_t C = centers.size(0);
    ASSERT_EQ(kids.offset.size(0), C);
    auto points = sample_cells(centers, half, 16);
    auto logits = net.forward(points.view({-1, 2})).view({C, 16, 16});
    EXPECT_TRUE(logits.ge(kids.lower().unsqueeze(1)).all().item<bool>()) << "depth " << depth;
    EXPECT_TRUE(logits.le(kids.upper().unsqueeze(1)).all().item<bool>()) << "depth " << depth;
    auto direct = bound_cells(net, centers, half, 16);
    EXPECT_TRUE(torch::allclose(kids.offset, direct.offset, 1e-10, 1e-10));
    EXPECT_TRUE(torch::allclose(kids.generators, direct.generators.slice(1, 0, 2), 1e-10, 1e-10));
    EXPECT_TRUE(torch::allclose(kids.center_logits, net.forward(centers), 1e-10, 1e-10));
    parents = kids;
  }
}

struct LossCase {
  LossKind kind;
  bool grey, masked;
  double prior;
};

TEST(LossBounds, AreBelowEverySampledLossAndTheCentreIsTheLoss) {
  const LossCase cases[] = {{LossKind::kSquaredError, false, false, 0},
                            {LossKind::kSquaredError, true, true, 0.5},
                            {LossKind::kBernoulli, false, true, 0},
                            {LossKind::kBernoulli, true, false, 0.5}};
  torch::manual_seed(14);
  auto net = dense_network(test_support::tiny_dense(2, 16, 8));
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "kind " << static_cast<int>(c.kind) << " grey " << c.grey
                                      << " masked " << c.masked);
    auto [centers, half] = random_cells(150, 2);
    auto z = test_support::random_images(30, 16, c.grey);
    torch::Tensor mask;
    if (c.masked) mask = test_support::random_images(30, 16, false);
    auto b = bound_cells(net, centers, half, 8);
    auto forms = loss_forms(b, c.kind, c.prior, centers, half);
    auto weighted = mask.defined() ? z * mask : z;
    auto pairs = evaluate(forms, weighted, mask, image_offset(c.kind, z, mask));
    auto points = sample_cells(centers, half, 32).view({-1, 2});
    auto sampled = test_support::brute_force_losses(net, c.kind, c.prior, z, mask, points)
                       .view({30, 150, 32}).amin(2);
    auto excess = (pairs.lower - sampled).max().item<double>();
    EXPECT_LE(excess, 0.0);
    auto at_centre = test_support::brute_force_losses(net, c.kind, c.prior, z, mask, centers);
    EXPECT_TRUE(torch::allclose(pairs.center, at_centre, 1e-10, 1e-10));
    // Not vacuous: on the small cells the bound is within a few per cent of the sampled least.
    auto small = half.select(1, 0).lt(1e-3);
    auto slack = (sampled - pairs.lower).index({torch::indexing::Slice(), small});
    EXPECT_LT(slack.max().item<double>(), 0.02 * sampled.abs().max().item<double>());
  }
}

TEST(DenseNetwork, IsTheDecodersNetwork) {
  auto decoder = test_support::tiny_dense(2, 16, 9);
  auto net = dense_network(decoder);
  auto y = torch::randn({20, 2});
  auto expected = decoder.forward(y).to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(net.forward(y.to(torch::kFloat64)), expected, 1e-5, 1e-5));
  EXPECT_EQ(net.latent_dim(), 2);
  EXPECT_EQ(net.pixels(), 16);
}

}  // namespace
}  // namespace preimage::certify
