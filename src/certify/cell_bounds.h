#pragma once
// What a dense ReLU decoder can output over a cell of the latent space (an axis-aligned box), as
// a zonotope: every logit is offset + sum_g generator_g * e_g + [-box, box] with each e_g in
// [-1, 1]. The first L generators are the latent directions (the cell's half-widths carried
// through the network exactly: within one linear region the logits are affine in y, and these
// rows are their Jacobian times the half-widths); each ReLU that the cell does not fix on one
// side (an unstable neuron) is relaxed by the tightest zonotope over its input's range
// (Singh et al. 2018, "Fast and effective robustness certification", DeepZ):
//   relu(x) in lambda x + mu +- mu,   lambda = u / (u - l),   mu = -lambda l / 2,
// its +-mu a new generator while the cell has room (`symbols` per cell, the largest first), else
// added to the box, which travels through |W| like an interval. Cells are batched: each layer is
// one matrix product for all cells and all their generators.
//
// Arithmetic is float64 (the decoder's float32 weights are exact in it), and each layer's box
// grows by a bound on the rounding of its products ((n + 2) u sum |W||x|, Higham's gamma_n), so
// the bounds hold for the network evaluated exactly.
#include <vector>

#include <torch/torch.h>

namespace preimage::decoders {
class Decoder;
}

namespace preimage::certify {

// The unit roundoff of float64, and Higham's gamma_n for a sum of n products:
// |fl(sum) - sum| <= gamma_n sum |terms| (with room for the bias: n + 2).
constexpr double kUnitRoundoff = 1.1102230246251565e-16;  // 2^-53
inline double rounding_gamma(int64_t n) {
  const double nu = static_cast<double>(n + 2) * kUnitRoundoff;
  return nu / (1 - nu);
}

// A dense ReLU network's layers in float64: weights (out, in), biases (out), hidden layers
// then the output (logits).
struct DenseNetwork {
  std::vector<torch::Tensor> weights, biases;
  std::vector<torch::Tensor> abs_weights;  // |W|, for the boxes
  int64_t latent_dim() const { return weights.front().size(1); }
  int64_t pixels() const { return weights.back().size(0); }
  torch::Tensor forward(const torch::Tensor& y) const;  // logits (B, P) of latents (B, L)
};

// The network of a dense ReLU decoder (preimage's own VAE, or dense weights from .npz / .npy /
// Keras .h5), on the CPU in float64. Throws UserError for any other decoder (a TorchScript
// module is opaque to bound propagation).
DenseNetwork dense_network(const decoders::Decoder& decoder);

struct CellBounds {
  torch::Tensor center_logits;  // (C, P) the decoder's logits at the cells' centres
  torch::Tensor offset;         // (C, P) the zonotope's centre
  torch::Tensor generators;     // (C, L + K, P) latent directions, then error symbols
  torch::Tensor box;            // (C, P) >= 0, the interval part's radius
  torch::Tensor unstable;       // (C) int64: neurons the cell left unfixed, all layers
  // Bounds of every hidden neuron's input over the cell, the hidden layers side by side
  // (C, sum of their widths); only from bound_cells (undefined otherwise): a neuron with
  // hidden_lower >= 0 is active on the whole cell, one with hidden_upper <= 0 inactive.
  torch::Tensor hidden_lower, hidden_upper;
  // Sum of the generators' magnitudes and the box: the logits lie in offset +- radius().
  torch::Tensor radius() const;  // (C, P)
  torch::Tensor lower() const;   // (C, P)
  torch::Tensor upper() const;   // (C, P)
};

// Bounds of the logits over the cells centres +- half_widths (both (C, L), float64), with room
// for `symbols` error generators per cell.
CellBounds bound_cells(const DenseNetwork& network, const torch::Tensor& centers,
                       const torch::Tensor& half_widths, int64_t symbols);

// The bounds of the 2^L children of cells that lie in one linear region of the network
// (unstable == 0, so their generators are the L latent directions and their box is rounding
// only): the logits are the parents' affine maps restricted to each child, no network pass:
//   offset + sum_i sign_i generator_i / 2,   generators / 2 (exact),   the parent's box plus the
// rounding of that sum. `parents` (C cells, generators (C, L, P)); `signs` (2^L, L) of -1 / +1;
// the children come parent by parent, child k with signs[k]: (C * 2^L) cells.
CellBounds split_affine(const CellBounds& parents, const torch::Tensor& signs);

// Rows `rows` of every field of `bounds`.
CellBounds select_cells(const CellBounds& bounds, const torch::Tensor& rows);

}  // namespace preimage::certify
