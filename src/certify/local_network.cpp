#include "certify/local_network.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::certify {

namespace {

// The rounding bounds are themselves sums of nonnegative floating-point terms, off by at most
// gamma_n relative (about 1e-13 here); doubling them covers that with room.
constexpr double kErrorMargin = 2.0;

// Restricts cells [b0, b1) of `bounds` into rows [b0, b1) of `out` (allocated by the caller).
// The rounding is carried as a bound per neuron rather than per coefficient: every variable's
// magnitude over the cell is known before the maps are composed (|y_i| <= |c_i| + h_i, and
// 0 <= r <= max(0, upper bound of its input)), so |input_exact - A_computed [1, y, r]| over the
// cell obeys  e' = |W| (gamma_n |X| m + e)  layer by layer, one column per cell.
void restrict_batch(const DenseNetwork& network, const CellBounds& bounds,
                    const torch::Tensor& centers, const torch::Tensor& half_widths, int64_t b0,
                    int64_t b1, LocalNetworks& out) {
  const auto opt = centers.options();
  const auto index = opt.dtype(torch::kInt64);
  const int64_t N = b1 - b0, L = centers.size(1), T = out.hidden.size(1), J = 1 + L + T;
  // X (in, N, J): each input of the layer as an affine function of [1, y, slots]; e (in, N)
  // bounds its error over the cell. The latent point itself is exact.
  auto X = torch::zeros({L, N, J}, opt);
  for (int64_t i = 0; i < L; ++i) X.select(0, i).select(1, 1 + i).fill_(1.0);
  auto e = torch::zeros({L, N}, opt);
  auto used = torch::zeros({N}, index);
  auto magnitude = torch::zeros({N, J}, opt);  // of each variable over the cell
  magnitude.select(1, 0).fill_(1.0);
  magnitude.slice(1, 1, 1 + L).copy_(centers.slice(0, b0, b1).abs() + half_widths.slice(0, b0, b1));
  int64_t column = 0;  // the layer's first neuron in hidden_lower
  // The previous layer's unstable neurons: their columns of X are one-hot (the neuron's own
  // variable), so their columns of the product are columns of W, gathered rather than multiplied.
  torch::Tensor last_cell, last_neuron, last_slot;
  int64_t dense_columns = 1 + L;  // past these, X's columns are those one-hot ones or 0
  const size_t layers = network.weights.size();
  for (size_t k = 0; k < layers; ++k) {
    const auto& W = network.weights[k];
    const int64_t in = W.size(1), width = W.size(0);
    auto Z = torch::zeros({width, N, J}, opt);
    Z.slice(2, 0, dense_columns)
        .copy_(W.mm(X.slice(2, 0, dense_columns).reshape({in, N * dense_columns}))
                   .view({width, N, dense_columns}));
    if (last_cell.defined() && last_cell.size(0) > 0)
      Z.permute({1, 2, 0}).index_put_({last_cell, last_slot + 1 + L},
                                      W.index_select(1, last_neuron).t());
    Z.select(2, 0).add_(network.biases[k].unsqueeze(1));
    auto reach = (X.abs() * magnitude.unsqueeze(0)).sum(2);      // (in, N): |X| m
    auto eZ = network.abs_weights[k].mm(reach * rounding_gamma(in) + e) +
              Z.select(2, 0).abs() * (2 * kUnitRoundoff);         // (width, N), the bias's sum
    if (k + 1 == layers) {
      out.output.slice(0, b0, b1).copy_(Z.permute({1, 0, 2}));
      out.output_error.slice(0, b0, b1).copy_(eZ.t() * kErrorMargin);
      out.output_abs_sum.slice(0, b0, b1).copy_(Z.abs().sum(2).t());
      break;
    }
    auto lo = bounds.hidden_lower.slice(0, b0, b1).slice(1, column, column + width);  // (N, H)
    auto hi = bounds.hidden_upper.slice(0, b0, b1).slice(1, column, column + width);
    column += width;
    auto live = lo.ge(0), dead = hi.le(0);
    auto unstable = live.logical_or(dead).logical_not();          // (N, H)
    auto slot_of = unstable.to(torch::kInt64).cumsum(1) - 1 + used.unsqueeze(1);
    dense_columns = 1 + L + used.max().item<int64_t>();  // the earlier layers' slots
    used += unstable.sum(1);
    require(used.le(T).all().item<bool>(),
            fmt::format("restrict_network: a cell leaves more than {} neurons unstable", T));
    auto at = unstable.nonzero();                                 // (M, 2): cell, neuron
    auto cell = at.select(1, 0), neuron = at.select(1, 1);
    auto slot = slot_of.index({cell, neuron});
    out.hidden.index_put_({cell + b0, slot}, Z.index({neuron, cell}));
    out.hidden_error.index_put_({cell + b0, slot}, eZ.index({neuron, cell}) * kErrorMargin);
    out.layer.index_put_({cell + b0, slot}, torch::full_like(slot, static_cast<int64_t>(k)));
    magnitude.index_put_({cell, slot + 1 + L}, hi.index({cell, neuron}).clamp_min(0));
    // The next layer's inputs: active neurons pass their affine map, inactive ones are 0, and
    // each unstable one is its own variable (exact).
    auto keep = live.t().to(opt.dtype());                         // (H, N)
    X = Z * keep.unsqueeze(2);
    e = eZ * keep;
    X.index_put_({neuron, cell, slot + 1 + L}, torch::ones_like(slot, opt));
    last_cell = cell;
    last_neuron = neuron;
    last_slot = slot;
  }
  out.slots.slice(0, b0, b1).copy_(used);
  out.hidden_abs_sum.slice(0, b0, b1).copy_(out.hidden.slice(0, b0, b1).abs().sum(2));
}

}  // namespace

LocalNetworks restrict_network(const DenseNetwork& network, const CellBounds& bounds,
                               const torch::Tensor& centers, const torch::Tensor& half_widths,
                               int64_t max_slots, int64_t batch) {
  torch::NoGradGuard no_grad;
  require(bounds.hidden_lower.defined(),
          "restrict_network needs the hidden layers' bounds of bound_cells");
  const auto opt = centers.options();
  const int64_t C = centers.size(0), L = centers.size(1), T = max_slots, J = 1 + L + T;
  const int64_t P = network.pixels();
  LocalNetworks out;
  out.hidden = torch::zeros({C, T, J}, opt);
  out.hidden_error = torch::zeros({C, T}, opt);
  out.layer = torch::full({C, T}, -1, opt.dtype(torch::kInt64));
  out.output = torch::empty({C, P, J}, opt);
  out.output_error = torch::empty({C, P}, opt);
  out.hidden_abs_sum = torch::zeros({C, T}, opt);
  out.output_abs_sum = torch::empty({C, P}, opt);
  out.slots = torch::zeros({C}, opt.dtype(torch::kInt64));
  for (int64_t b0 = 0; b0 < C; b0 += batch) {
    const int64_t b1 = std::min(C, b0 + batch);
    restrict_batch(network, bounds, centers, half_widths, b0, b1, out);
  }
  return out;
}

CellBounds bound_local(const LocalNetworks& local, const torch::Tensor& which,
                       const torch::Tensor& centers, const torch::Tensor& half_widths) {
  torch::NoGradGuard no_grad;
  const auto opt = centers.options();
  const int64_t C = centers.size(0), L = centers.size(1);
  const int64_t T = local.slots.index_select(0, which).max().item<int64_t>(), J = 1 + L + T;
  const int64_t G = L + T;  // generators: the latent directions, then one symbol per slot
  auto hidden = local.hidden.slice(1, 0, T).slice(2, 0, J).index_select(0, which);
  auto hidden_abs_sum = local.hidden_abs_sum.slice(1, 0, T).index_select(0, which);
  auto hidden_error = local.hidden_error.slice(1, 0, T).index_select(0, which);
  auto layer = local.layer.slice(1, 0, T).index_select(0, which);
  auto output = local.output.slice(2, 0, J).index_select(0, which);
  auto output_abs_sum = local.output_abs_sum.index_select(0, which);
  auto output_error = local.output_error.index_select(0, which);

  // The variables [1, y, slots] as a zonotope: offset, generators (C, G, J), box; `point` their
  // values at the cell's centre.
  auto offset = torch::zeros({C, J}, opt);
  offset.select(1, 0).fill_(1.0);
  offset.slice(1, 1, 1 + L).copy_(centers);
  auto point = offset.clone();
  auto gens = torch::zeros({C, G, J}, opt);
  gens.slice(1, 0, L).slice(2, 1, 1 + L).copy_(torch::diag_embed(half_widths));
  auto box = torch::zeros({C, J}, opt);
  auto unstable = torch::zeros({C}, opt.dtype(torch::kInt64));
  auto magnitude = [&] { return offset.abs() + gens.abs().sum(1) + box; };
  const double g = rounding_gamma(J);
  // |A| w <= (sum_j |A_j|) max_j w for the small terms (the variables' boxes are rounding and
  // the composition's error, the gamma term is ~1e-14 of the magnitudes): no pass through |A|.
  const auto small_terms = [&](const torch::Tensor& abs_sum) {
    auto w = box.amax(1, true) + magnitude().amax(1, true) * g;  // (C, 1)
    return abs_sum * w;
  };

  const int64_t layers = T > 0 ? layer.max().item<int64_t>() + 1 : 0;
  for (int64_t k = 0; k < layers; ++k) {
    auto mask = layer.eq(k);                                      // (C, T)
    if (!mask.any().item<bool>()) continue;
    // One product for the generators, the offset and the centre: rows (G, offset, point).
    auto rows = torch::bmm(torch::cat({gens, offset.unsqueeze(1), point.unsqueeze(1)}, 1),
                           hidden.transpose(1, 2));               // (C, G + 2, T)
    auto zg = rows.slice(1, 0, G), zo = rows.select(1, G), zc = rows.select(1, G + 1);
    auto zb = small_terms(hidden_abs_sum) + hidden_error;
    auto rad = zg.abs().sum(1) + zb;
    auto lo = zo - rad, hi = zo + rad;
    auto live = lo.ge(0), dead = hi.le(0);
    auto unst = live.logical_or(dead).logical_not().logical_and(mask);
    unstable += unst.sum(1);
    auto lambda = torch::where(live, torch::ones_like(lo),
                               torch::where(dead, torch::zeros_like(lo), hi / (hi - lo)));
    // relu(x) - lambda x over [lo, hi] lies in [0, max(-lambda lo, (1 - lambda) hi)] for any
    // lambda in [0, 1]: the rounded lambda keeps the relaxation valid.
    auto mu = torch::where(unst, torch::maximum(-lambda * lo, (1 - lambda) * hi) / 2,
                           torch::zeros_like(lo));
    auto new_offset = lambda * zo + mu;
    auto new_gens = lambda.unsqueeze(1) * zg;
    new_gens.slice(1, L, G).add_(torch::diag_embed(mu));
    // The products lambda x and the sum x + mu round: a relative u each.
    auto new_box =
        lambda * zb + (new_offset.abs() + new_gens.abs().sum(1)) * (4 * kUnitRoundoff);
    auto slots = offset.slice(1, 1 + L);
    slots.copy_(torch::where(mask, new_offset, slots));
    auto gen_slots = gens.slice(2, 1 + L);
    gen_slots.copy_(torch::where(mask.unsqueeze(1), new_gens, gen_slots));
    auto box_slots = box.slice(1, 1 + L);
    box_slots.copy_(torch::where(mask, new_box, box_slots));
    auto point_slots = point.slice(1, 1 + L);
    point_slots.copy_(torch::where(mask, zc.clamp_min(0), point_slots));
  }

  CellBounds b;
  auto rows = torch::bmm(torch::cat({gens, offset.unsqueeze(1), point.unsqueeze(1)}, 1),
                         output.transpose(1, 2));                 // (C, G + 2, P)
  b.generators = rows.slice(1, 0, G).contiguous();
  b.offset = rows.select(1, G).contiguous();
  b.center_logits = rows.select(1, G + 1).contiguous();
  b.box = small_terms(output_abs_sum) + output_error;
  b.unstable = unstable;
  return b;
}

namespace {
// Every field of LocalNetworks, for the operations that treat them alike.
constexpr std::array<torch::Tensor LocalNetworks::*, 8> kFields = {
    &LocalNetworks::hidden,         &LocalNetworks::hidden_error,   &LocalNetworks::layer,
    &LocalNetworks::output,         &LocalNetworks::output_error,   &LocalNetworks::hidden_abs_sum,
    &LocalNetworks::output_abs_sum, &LocalNetworks::slots};
}  // namespace

LocalNetworks select_networks(const LocalNetworks& local, const torch::Tensor& rows) {
  LocalNetworks out;
  for (auto field : kFields) out.*field = (local.*field).index_select(0, rows);
  return out;
}

LocalNetworks join_networks(const LocalNetworks& a, const LocalNetworks& b) {
  if (a.size() == 0) return b;
  if (b.size() == 0) return a;
  LocalNetworks out;
  for (auto field : kFields) out.*field = torch::cat({a.*field, b.*field});
  return out;
}

}  // namespace preimage::certify
