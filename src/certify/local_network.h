#pragma once
// The decoder restricted to a cell's activation pattern, for bounding the cell's descendants
// without the whole network. A cell whose zonotope (cell_bounds.h) fixes all but a few ReLUs
// (the others proven active or inactive on the whole cell, hence on every sub-cell) makes the
// network, on that cell, an affine function of the latent point y and of the outputs r of those
// few unstable neurons:
//   each unstable neuron's input  = A_k [1, y, r of the earlier layers' unstable neurons],
//   the logits                    = A_out [1, y, r].
// Composing these maps is one product of each layer with at most J = 1 + L + T columns per cell
// (the columns of the previous layer's unstable neurons are columns of W, gathered; cells of
// alike T made together); bounding a descendant is then a pass through this small network:
// the same zonotope relaxation (DeepZ), every unstable neuron with its own error symbol, so it
// is also tighter. It pays where a cell's descendants are many; deep cells of a wide decoder
// hold a few kinks but rarely none.
//
// Soundness: the maps are composed in float64 with a bound on their rounding carried alongside
// (|fl(W X) - W X| <= gamma_n |W| |X|, Higham), per neuron over the cell the network was made
// for (the variables' magnitudes there bound them on every sub-cell); each pass through the
// small network adds the rounding of its own products as bound_cells does.
#include <torch/torch.h>

#include "certify/cell_bounds.h"

namespace preimage::certify {

// N restricted networks, each with at most T unstable neurons ("slots"); J = 1 + L + T.
struct LocalNetworks {
  torch::Tensor hidden;        // (N, T, J) each slot's input, affine in [1, y, earlier slots]
  torch::Tensor hidden_error;  // (N, T) bound on |exact - computed| of each slot's input
  torch::Tensor layer;         // (N, T) int64: the slot's hidden layer, -1 for an unused slot
  torch::Tensor output;        // (N, P, J) the logits
  torch::Tensor output_error;  // (N, P)
  torch::Tensor hidden_abs_sum;  // (N, T) sum of |hidden| over J, for the small terms
  torch::Tensor output_abs_sum;  // (N, P)
  torch::Tensor slots;         // (N) int64: slots used
  int64_t size() const { return slots.defined() ? slots.size(0) : 0; }
};

// The networks of cells `centers` +- `half_widths` (C, L) restricted to the patterns their
// bounds (from bound_cells, with hidden_lower / hidden_upper) found; each cell may leave at most
// `max_slots` neurons unstable (bounds.unstable <= max_slots). Composed `batch` cells at a time.
LocalNetworks restrict_network(const DenseNetwork& network, const CellBounds& bounds,
                               const torch::Tensor& centers, const torch::Tensor& half_widths,
                               int64_t max_slots, int64_t batch = 32);

// Bounds of the logits over cells `centers` +- `half_widths` (C, L), cell c inside the cell
// network `which[c]` of `local` was made for. Generators: the L latent directions, then one
// error symbol per slot. hidden_lower / hidden_upper are left undefined.
CellBounds bound_local(const LocalNetworks& local, const torch::Tensor& which,
                       const torch::Tensor& centers, const torch::Tensor& half_widths);

// Rows `rows` of every field; `parts` joined (the same T).
LocalNetworks select_networks(const LocalNetworks& local, const torch::Tensor& rows);
LocalNetworks join_networks(const LocalNetworks& a, const LocalNetworks& b);

}  // namespace preimage::certify
