#pragma once
// The latent box [-r, r]^L decoded on a regular grid of n points per axis (L <= 3), and images
// scored against its points with matrix products (no per-image loop):
//   squared error: |m(z - s)|^2 = m.z^2 - 2 (m z) . s + m . s^2      (s = sigmoid(D(g)))
//   bernoulli:     sum m (softplus(l) - z l) = -(m z) . l + m . softplus(l)   (l = D(g))
// Both are linear in the image's pixels. The grid search stands on it, and the exact likelihood's
// quadrature (likelihood/quadrature.h) streams its chunks (decode_chunks) without holding it.
#include <functional>
#include <memory>

#include <torch/torch.h>

#include "solvers/objective.h"

namespace preimage::solvers {

struct DecodedGrid {
  const decoders::Decoder* decoder = nullptr;  // with n, radius, kind, prior: what it was made of
  int64_t n = 0;           // points per axis
  double radius = 0;       // the box [-radius, radius]^L
  LossKind kind = LossKind::kSquaredError;
  double prior = 0;        // the objective's prior weight
  torch::Tensor points;    // (G, L), G = n^L, row-major over the axes
  torch::Tensor feature;   // (G, P) sigmoid(D(g)) for squared error, D(g) for bernoulli
  torch::Tensor constant;  // (G) sum_p penalty(feature) + prior (unmasked objectives)
  double coefficient = 0;  // of (m z) . feature: -2 (squared error) or -1 (bernoulli)

  // Decodes the grid of n points per axis over [-radius, radius]^L for `objective`'s decoder,
  // loss and prior, in the dtype of its targets.
  static DecodedGrid decode(const Objective& objective, int64_t n, double radius);
  // The points of such a grid: (n^L, L), row-major over the axes.
  static torch::Tensor make_points(int64_t latent_dim, int64_t n, double radius);
  // What a decoded chunk of points holds: points (C, L), feature (C, P), constant (C), as above.
  using ChunkVisitor = std::function<void(int64_t first, const torch::Tensor& points,
                                          const torch::Tensor& feature,
                                          const torch::Tensor& constant)>;
  // Decodes `points` (G, L) `chunk` rows at a time for `decoder`, loss `kind` and prior weight
  // `prior`, and hands each chunk (starting at row `first`) to `visit`: the one place the plane
  // is decoded.
  static void decode_chunks(const decoders::Decoder& decoder, LossKind kind, double prior,
                            const torch::Tensor& points, const ChunkVisitor& visit,
                            int64_t chunk = 4096);
  // Bytes the decoded grid takes (float32), to refuse one too large before decoding.
  static double bytes(int64_t latent_dim, int64_t n, int64_t pixels);

  // True when it was decoded for this objective's decoder, loss, prior and dtype.
  bool made_for(const Objective& objective, int64_t points, double box) const;
  // Scores (C, U) of images `rows` against grid points `idx` (U), up to the per-image constant
  // (score_offset); `weighted` (B, P) is m z for the objective's images.
  torch::Tensor scores(const Objective& objective, const torch::Tensor& weighted,
                       const torch::Tensor& rows, const torch::Tensor& idx) const;
  // The per-image constant that turns a score into the objective's value: m.z^2 (squared
  // error), 0 (bernoulli).
  static torch::Tensor score_offset(const Objective& objective, const torch::Tensor& weighted);
  // The penalty term per pixel of features `f`: f^2 (squared error) or softplus(f).
  torch::Tensor penalty(const torch::Tensor& f) const;
  // The logits of grid points `idx`: the feature itself (bernoulli), or the logit of the
  // sigmoid (squared error), clamped to |logit| <= 13.8 (beyond, float32's sigmoid loses its
  // precision, and the pixel's Gauss-Newton weight s'(logit)^2 is below 1e-12).
  torch::Tensor logits(const torch::Tensor& idx) const;
  static constexpr double kSaturation = 1e-6;
};

}  // namespace preimage::solvers
