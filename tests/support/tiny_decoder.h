#pragma once
// A small random decoder (L -> 24 -> 24 -> P) for fast, exact tests of the inversion engine.
#include <torch/torch.h>

#include "decoders/dense_relu.h"
#include "model/mlp.h"
#include "solvers/loss.h"

namespace preimage::test_support {

inline model::Mlp tiny_decoder(int64_t latent = 2, int64_t pixels = 16, uint64_t seed = 3,
                               torch::Dtype dtype = torch::kFloat32) {
  torch::manual_seed(seed);
  model::Mlp mlp(model::MlpShape{latent, 24, 2, pixels});
  torch::NoGradGuard no_grad;
  // Non-zero biases so that ReLU kinks sit away from the origin.
  for (auto& layer : mlp->layers()) layer->bias.uniform_(-0.5, 0.5);
  mlp->to(dtype);
  return mlp;
}

// The fast-path decoder of a tiny_decoder network.
inline decoders::DenseReluDecoder tiny_dense(int64_t latent = 2, int64_t pixels = 16,
                                             uint64_t seed = 3,
                                             torch::Dtype dtype = torch::kFloat32) {
  return decoders::DenseReluDecoder(tiny_decoder(latent, pixels, seed, dtype));
}

// A loss of `kind` with a prior term and a mask hiding every third pixel: every part of the
// objective at once, for derivative checks.
inline solvers::LossSpec masked_loss_with_prior(solvers::LossKind kind, double prior_weight,
                                                int64_t pixels,
                                                torch::Dtype dtype = torch::kFloat64) {
  solvers::LossSpec spec;
  spec.kind = kind;
  spec.prior_weight = prior_weight;
  spec.mask = (torch::arange(pixels) % 3 != 0).to(dtype);
  return spec;
}

}  // namespace preimage::test_support
