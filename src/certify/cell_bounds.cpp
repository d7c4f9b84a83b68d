#include "certify/cell_bounds.h"

#include <algorithm>
#include <limits>

#include "decoders/dense_relu.h"
#include "util/error.h"

namespace preimage::certify {

static_assert(kUnitRoundoff == std::numeric_limits<double>::epsilon() / 2);

DenseNetwork dense_network(const decoders::Decoder& decoder) {
  const auto* dense = dynamic_cast<const decoders::DenseReluDecoder*>(&decoder);
  require(dense != nullptr,
          "certificates need a dense ReLU decoder, got " + decoder.describe(),
          "certify preimage's own VAE or dense weights (--weights FILE.npz | folder of .npy | "
          "Keras .h5): bound propagation cannot look inside a TorchScript module");
  DenseNetwork net;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(torch::kCPU);
  for (size_t i = 0; i < dense->weights().size(); ++i) {
    net.weights.push_back(dense->weights()[i].to(f64).contiguous());
    net.biases.push_back(dense->biases()[i].to(f64).contiguous());
    net.abs_weights.push_back(net.weights.back().abs());
  }
  return net;
}

torch::Tensor DenseNetwork::forward(const torch::Tensor& y) const {
  torch::NoGradGuard no_grad;
  auto h = y;
  for (size_t k = 0; k < weights.size(); ++k) {
    h = torch::addmm(biases[k], h, weights[k].t());
    if (k + 1 < weights.size()) h.relu_();
  }
  return h;
}

torch::Tensor CellBounds::radius() const { return generators.abs().sum(1) + box; }
torch::Tensor CellBounds::lower() const { return offset - radius(); }
torch::Tensor CellBounds::upper() const { return offset + radius(); }

CellBounds bound_cells(const DenseNetwork& network, const torch::Tensor& centers,
                       const torch::Tensor& half_widths, int64_t symbols) {
  torch::NoGradGuard no_grad;
  const int64_t C = centers.size(0), L = centers.size(1);
  const auto opt = centers.options();
  const auto index = opt.dtype(torch::kInt64);
  // The state's rows per cell: 0 the centre's activations, 1 the zonotope's offset, then the
  // generators (the L latent directions, then the error symbols allocated so far).
  auto state = torch::cat({centers.unsqueeze(1), centers.unsqueeze(1),
                           torch::diag_embed(half_widths)},
                          1);                                     // (C, 2 + L, L)
  auto box = torch::zeros({C, L}, opt);                           // (C, H)
  auto used = torch::zeros({C}, index);                           // error symbols allocated
  auto unstable = torch::zeros({C}, index);
  std::vector<torch::Tensor> hidden_lower, hidden_upper;
  const size_t layers = network.weights.size();
  for (size_t k = 0; k < layers; ++k) {
    const auto& W = network.weights[k];
    const int64_t in = W.size(1), out = W.size(0);
    const double g = rounding_gamma(in);
    // What the rounding of this layer's products can move each output by: gamma_n |W| |x|.
    auto magnitude = state.slice(1, 1).abs().sum(1) + box;        // (C, in)
    auto next = state.reshape({-1, in}).mm(W.t()).view({C, -1, out});
    next.select(1, 0).add_(network.biases[k]);
    next.select(1, 1).add_(network.biases[k]);
    box = (box + magnitude * g).mm(network.abs_weights[k].t()) +
          next.select(1, 1).abs() * (2 * kUnitRoundoff);
    state = next;
    if (k + 1 == layers) break;

    state.select(1, 0).relu_();
    auto offset = state.select(1, 1);
    auto gens = state.slice(1, 2);                                // (C, G, H)
    auto rad = gens.abs().sum(1) + box;
    auto lo = offset - rad, hi = offset + rad;
    hidden_lower.push_back(lo);
    hidden_upper.push_back(hi);
    auto live = lo >= 0, dead = hi <= 0;
    auto unst = live.logical_or(dead).logical_not();
    unstable += unst.sum(1);
    auto lambda = torch::where(live, torch::ones_like(lo),
                               torch::where(dead, torch::zeros_like(lo), hi / (hi - lo)));
    auto mu = torch::where(unst, -lambda * lo / 2, torch::zeros_like(lo));
    state.slice(1, 1).mul_(lambda.unsqueeze(1));
    offset.add_(mu);
    box.mul_(lambda);
    // Room for new symbols: the largest mu of each cell first.
    auto room = (symbols - used).clamp_min(0);                    // (C)
    auto taken = torch::zeros_like(unst);
    const int64_t top = std::min<int64_t>(symbols, out);
    if (top > 0 && room.max().item<int64_t>() > 0) {
      auto [value, neuron] = torch::where(unst, mu, torch::full_like(mu, -1.0)).topk(top, 1);
      auto rank = torch::arange(top, index).unsqueeze(0).expand({C, top});
      auto take = value.gt(0).logical_and(rank < room.unsqueeze(1));  // (C, top)
      auto counts = take.sum(1);
      if (counts.max().item<int64_t>() > 0) {
        // Each cell's symbols sit in its rows 2 + L + 0 .. used - 1; the tensor grows to the
        // most any cell now holds.
        const int64_t need = 2 + L + (used + counts).max().item<int64_t>();
        if (need > state.size(1))
          state = torch::cat({state, torch::zeros({C, need - state.size(1), out}, opt)}, 1);
        auto cell = torch::arange(C, index).unsqueeze(1).expand({C, top}).masked_select(take);
        auto slot = (2 + L + used.unsqueeze(1) + rank).masked_select(take);
        auto at = neuron.masked_select(take);
        state.index_put_({cell, slot, at}, value.masked_select(take));
        taken.index_put_({cell, at}, torch::ones_like(at, index.dtype(torch::kBool)));
        used += counts;
      }
    }
    box.add_(torch::where(unst.logical_and(taken.logical_not()), mu, torch::zeros_like(mu)));
    // The products lambda x and the sum x + mu round too: a relative u each.
    box.add_((state.select(1, 1).abs() + state.slice(1, 2).abs().sum(1)) * (4 * kUnitRoundoff));
  }
  CellBounds b;
  b.center_logits = state.select(1, 0).contiguous();
  b.offset = state.select(1, 1).contiguous();
  b.generators = state.slice(1, 2).contiguous();
  b.box = box;
  b.unstable = unstable;
  if (!hidden_lower.empty()) {
    b.hidden_lower = torch::cat(hidden_lower, 1);
    b.hidden_upper = torch::cat(hidden_upper, 1);
  }
  return b;
}

CellBounds split_affine(const CellBounds& parents, const torch::Tensor& signs) {
  torch::NoGradGuard no_grad;
  const int64_t C = parents.offset.size(0), P = parents.offset.size(1);
  const int64_t L = signs.size(1), K = signs.size(0);
  require(parents.generators.size(1) == L,
          "split_affine: the parents must lie in one linear region (L generators, no symbols)");
  auto half = parents.generators * 0.5;                                   // (C, L, P), exact
  // (C, K, P): offset + sum_i signs[k, i] half_i.
  auto shift = torch::einsum("kl,clp->ckp", {signs.to(half.options()), half});
  auto offset = (parents.offset.unsqueeze(1) + shift).reshape({C * K, P});
  auto magnitude = parents.offset.abs() + half.abs().sum(1);              // (C, P)
  auto box = (parents.box + magnitude * rounding_gamma(L + 1)).repeat_interleave(K, 0);
  CellBounds b;
  b.offset = offset.contiguous();
  b.center_logits = b.offset;
  b.generators = half.repeat_interleave(K, 0).contiguous();
  b.box = box.contiguous();
  b.unstable = torch::zeros({C * K}, parents.unstable.options());
  return b;
}

CellBounds select_cells(const CellBounds& bounds, const torch::Tensor& rows) {
  CellBounds b;
  b.center_logits = bounds.center_logits.index_select(0, rows);
  b.offset = bounds.offset.index_select(0, rows);
  b.generators = bounds.generators.index_select(0, rows);
  b.box = bounds.box.index_select(0, rows);
  b.unstable = bounds.unstable.index_select(0, rows);
  if (bounds.hidden_lower.defined()) {
    b.hidden_lower = bounds.hidden_lower.index_select(0, rows);
    b.hidden_upper = bounds.hidden_upper.index_select(0, rows);
  }
  return b;
}

}  // namespace preimage::certify
