// The decoder restricted to a cell's activation pattern: the bounds it gives any sub-cell contain
// the logits of every sampled point of that sub-cell, its centre's logits are the network's, and
// inside one linear region it is exact; branch and bound with it certifies what it certifies
// without it, with fewer passes through the network, and makes no more networks than its memory
// holds.
#include <gtest/gtest.h>

#include "certify/branch_and_bound.h"
#include "certify/local_network.h"
#include "certify_support.h"
#include "tiny_decoder.h"

namespace preimage::certify {
namespace {
using test_support::f64;

struct Restricted {
  DenseNetwork net;  // a tiny decoder 2 -> 16 pixels
  LocalNetworks local;
  torch::Tensor centers, half;  // of the cells the networks were made for
};

// Cells of half-width `width` anywhere in [-2, 2]^2 that leave 1..max_slots ReLUs unstable,
// with their restricted networks; the decoder and the cells drawn from `seed`.
Restricted restricted_cells(int64_t seed, double width, int64_t max_slots) {
  torch::manual_seed(static_cast<uint64_t>(seed));
  const auto net = dense_network(test_support::tiny_dense(2, 16, seed));
  auto centers = torch::rand({300, 2}, f64()) * 4 - 2;
  auto half = torch::full({300, 2}, width, f64());
  auto b = bound_cells(net, centers, half, 16);
  auto rows = b.unstable.gt(0).logical_and(b.unstable.le(max_slots)).nonzero().view({-1});
  Restricted r;
  r.net = net;
  r.centers = centers.index_select(0, rows);
  r.half = half.index_select(0, rows);
  r.local = restrict_network(net, select_cells(b, rows), r.centers, r.half, max_slots, 7);
  return r;
}

// `S` sub-cells of each cell, of relative sizes from 1 (the cell itself) down to 1e-3.
std::pair<torch::Tensor, torch::Tensor> sub_cells(const torch::Tensor& centers,
                                                  const torch::Tensor& half, int64_t S) {
  const int64_t C = centers.size(0), L = centers.size(1);
  auto share = torch::pow(10.0, -3 * torch::rand({C, S, 1}, f64()));
  share.select(1, 0).fill_(1.0);
  auto sub_half = half.unsqueeze(1) * share;
  auto shift = (torch::rand({C, S, L}, f64()) * 2 - 1) * (half.unsqueeze(1) - sub_half);
  return {(centers.unsqueeze(1) + shift).reshape({-1, L}), sub_half.reshape({-1, L})};
}

// The four corners of the unit square [-1, 1]^2, (4, 2).
torch::Tensor corners() {
  return torch::tensor({-1.0, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0}, f64()).view({4, 2});
}

TEST(LocalNetwork, BoundsEverySubCellAroundItsSampledLogits) {
  auto r = restricted_cells(61, 0.05, 8);
  const auto& net = r.net;
  const int64_t N = r.local.size();
  ASSERT_GT(N, 20);
  EXPECT_TRUE(r.local.slots.gt(0).all().item<bool>());
  auto [centers, half] = sub_cells(r.centers, r.half, 6);
  auto which = torch::arange(N, torch::kInt64).repeat_interleave(6);
  auto b = bound_local(r.local, which, centers, half);
  const int64_t C = centers.size(0);
  auto e = torch::rand({C, 32, 2}, f64()) * 2 - 1;
  e.slice(1, 0, 4).copy_(corners());
  auto points = centers.unsqueeze(1) + e * half.unsqueeze(1);
  auto logits = net.forward(points.view({-1, 2})).view({C, 32, 16});
  EXPECT_TRUE(logits.ge(b.lower().unsqueeze(1)).all().item<bool>());
  EXPECT_TRUE(logits.le(b.upper().unsqueeze(1)).all().item<bool>());
  EXPECT_TRUE(torch::allclose(b.center_logits, net.forward(centers), 1e-12, 1e-12));
  // Whole cells leave as many neurons unstable as the network found; sub-cells no more.
  auto whole = b.unstable.view({N, 6}).select(1, 0);
  EXPECT_TRUE(whole.le(r.local.slots).all().item<bool>());
  EXPECT_GT(b.unstable.eq(0).sum().item<int64_t>(), 0);
}

TEST(LocalNetwork, IsExactInsideOneLinearRegion) {
  // Sub-cells small enough to fix every ReLU: the logits are affine there, and the bounds are
  // reached at the corners, up to the rounding margins; the linear part is the network's.
  auto r = restricted_cells(62, 0.02, 8);
  const auto& net = r.net;
  const int64_t N = r.local.size();
  ASSERT_GT(N, 20);
  auto centers = r.centers, half = r.half * 1e-5;
  auto b = bound_local(r.local, torch::arange(N, torch::kInt64), centers, half);
  auto fixed = b.unstable.eq(0);
  ASSERT_GT(fixed.sum().item<int64_t>(), N / 2);
  auto points = centers.unsqueeze(1) + corners().unsqueeze(0) * half.unsqueeze(1);
  auto logits = net.forward(points.view({-1, 2})).view({N, 4, 16});
  auto reach_hi = (logits.amax(1) - b.upper()).abs().amax(1);
  auto reach_lo = (logits.amin(1) - b.lower()).abs().amax(1);
  EXPECT_LT(reach_hi.masked_select(fixed).max().item<double>(), 1e-12);
  EXPECT_LT(reach_lo.masked_select(fixed).max().item<double>(), 1e-12);
  auto direct = bound_cells(net, centers, half, 16);
  auto rows = fixed.logical_and(direct.unstable.eq(0)).nonzero().view({-1});
  ASSERT_GT(rows.size(0), 0);
  EXPECT_TRUE(torch::allclose(b.generators.index_select(0, rows).slice(1, 0, 2),
                              direct.generators.index_select(0, rows).slice(1, 0, 2), 1e-10,
                              1e-14));
}

TEST(LocalNetwork, KeepsTheCertificatesWithFewerNetworkPasses) {
  torch::manual_seed(63);
  auto net = dense_network(test_support::tiny_dense(2, 16, 63));
  auto z = test_support::random_images(16, 16, false);
  auto start = torch::zeros({16, 2}, f64());
  CertifyOptions options;
  options.radius = 2.0;
  options.initial_cells = 8;
  options.local_neurons = 0;
  auto whole = certify(net, solvers::LossKind::kSquaredError, 0, z, {}, start, options);
  options.local_neurons = 32;
  auto local = certify(net, solvers::LossKind::kSquaredError, 0, z, {}, start, options);
  EXPECT_EQ(whole.local_cells, 0);
  EXPECT_GT(local.local_cells, 0);
  EXPECT_LT(local.network_cells, whole.network_cells);
  ASSERT_TRUE(whole.certified.all().item<bool>());
  ASSERT_TRUE(local.certified.all().item<bool>());
  // Both prove the same optimum to within the tolerance: each one's bound is below the other's
  // incumbent, and the incumbents agree.
  auto slack = local.incumbent.abs().clamp_min(1) * options.tolerance;
  EXPECT_TRUE(local.lower_bound.le(whole.incumbent + 1e-12).all().item<bool>());
  EXPECT_TRUE(whole.lower_bound.le(local.incumbent + 1e-12).all().item<bool>());
  EXPECT_TRUE((local.incumbent - whole.incumbent).abs().le(slack).all().item<bool>());

  // Within a memory of three networks (16 pixels, 32 slots: 48 x 37 doubles each), fewer cells
  // go through them, the same images are certified; with none, the whole network does it all.
  options.local_memory = 3 * 48 * 37 * 8;
  auto few = certify(net, solvers::LossKind::kSquaredError, 0, z, {}, start, options);
  EXPECT_GT(few.local_cells, 0);
  EXPECT_LT(few.local_cells, local.local_cells);
  EXPECT_TRUE(few.certified.all().item<bool>());
  EXPECT_TRUE(few.lower_bound.le(whole.incumbent + 1e-12).all().item<bool>());
  options.local_memory = 0;
  auto none = certify(net, solvers::LossKind::kSquaredError, 0, z, {}, start, options);
  EXPECT_EQ(none.local_cells, 0);
  EXPECT_EQ(none.network_cells, whole.network_cells);
}

}  // namespace
}  // namespace preimage::certify
