#pragma once
// Lower bounds of the inversion loss over a cell, for many images at once. Given the logits'
// zonotope over a cell (cell_bounds.h), two bounds, the larger kept:
//   interval: each pixel's loss at its best logit within [lower, upper] (tight for large cells);
//   Taylor:   each pixel's loss expanded at the zonotope's centre c,
//               f(c + u) >= f(c) + f'(c) u + min(0, min f'') u^2 / 2   (u over the cell),
//             summed over pixels with u = sum_g generator_g e_g + box: the first-order term is
//             exact in the generators (- sum_g |sum_p f'_p generator_gp|), so the bound's error is
//             of second order in the cell's size, and tight in one linear region.
// Every term is linear in the image's pixels for a binary image, or bounded by its chord
// between z = 0 and z = 1 (exact at 0 and 1, below a concave term, above a convex one it is
// subtracted as), so for any image in [0, 1] the bound is
//     m . form0 + (m z) . form1 + offset(z) - sum_g |m . gen0_g + (m z) . gen1_g|
// and bounding B images against C cells is a matrix product (B, P) x (P, C * (3 + G)).
// m is the pixel mask (1 = known), offset(z) = m . z^2 for the squared error, 0 for Bernoulli.
#include <torch/torch.h>

#include "certify/cell_bounds.h"
#include "solvers/loss.h"

namespace preimage::certify {

// Per cell, forms in the image's pixels (all (C, P) unless said).
struct LossForms {
  torch::Tensor taylor0, taylor1;      // the Taylor bound without its generator terms
  torch::Tensor gen0, gen1;            // (C, G, P): minus the absolute value of each generator's
  torch::Tensor interval0, interval1;  // the interval bound
  torch::Tensor center0, center1;      // the loss at the cell's centre (an upper bound)
  torch::Tensor prior_lower;           // (C) lambda min ||y||^2 over the cell
  torch::Tensor prior_center;          // (C) lambda ||centre||^2
};

LossForms loss_forms(const CellBounds& bounds, solvers::LossKind kind, double prior_weight,
                     const torch::Tensor& centers, const torch::Tensor& half_widths);

struct PairBounds {
  torch::Tensor lower;   // (B, C) the loss of image b is at least this over cell c
  torch::Tensor center;  // (B, C) the loss of image b at cell c's centre
};

// `weighted` (B, P) = m z, `mask` (B, P) or undefined (every pixel), `offset` (B) = the image's
// constant (image_offset).
PairBounds evaluate(const LossForms& forms, const torch::Tensor& weighted,
                    const torch::Tensor& mask, const torch::Tensor& offset);

// m . z^2 (squared error) or 0 (bernoulli), (B).
torch::Tensor image_offset(solvers::LossKind kind, const torch::Tensor& targets,
                           const torch::Tensor& mask);

// The loss of images `targets` (B, P) at logits `logits` (B, P), in float64, with the prior
// lambda ||y||^2 at `latents` (B, L): the value the certificate's incumbent is compared in.
torch::Tensor loss_at(solvers::LossKind kind, double prior_weight, const torch::Tensor& logits,
                      const torch::Tensor& targets, const torch::Tensor& mask,
                      const torch::Tensor& latents);

// Relative margin taken off every lower bound for the rounding of the sums over pixels.
constexpr double kSumRoundingMargin = 1e-9;

}  // namespace preimage::certify
