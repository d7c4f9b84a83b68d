#pragma once
// The one expensive computation every solver shares: decode a batch of latents and
// differentiate with respect to the latents only. Hand-written forward and backward passes over
// the decoder's weights (no autograd graph, no weight gradients): per layer one large matrix
// product, so the work runs at close to the BLAS's GEMM rate.
#include <vector>

#include <torch/torch.h>

#include "model/mlp.h"

namespace preimage::solvers {

// Activations a forward pass keeps for the backward pass and the Jacobian.
struct Trace {
  std::vector<torch::Tensor> hidden;  // post-ReLU output of each hidden layer, (B, H) each
};

class DecoderEngine {
 public:
  // Copies the decoder's weights (detached); the engine does not track later changes.
  explicit DecoderEngine(const model::Mlp& decoder);

  int64_t latent_dim() const { return latent_dim_; }
  int64_t pixels() const { return pixels_; }

  // Logits (B, P) of latents `y` (B, L). Fills `trace` when given.
  torch::Tensor forward(const torch::Tensor& y, Trace* trace = nullptr) const;

  // Vector-Jacobian product: d/dy of sum_b <g_logits_b, logits_b>, (B, L), using the trace of
  // the forward pass at the same y.
  torch::Tensor backward(const Trace& trace, const torch::Tensor& g_logits) const;

  // Jacobian d logits / d y by forward-mode propagation of the L latent directions, stored as
  // (B, L, P): row k is d logits / d y_k (contiguous, so per-image products are plain reductions).
  torch::Tensor jacobian(const Trace& trace) const;

  // The ReLU activation pattern of each point, (B, hidden units) bool. Points with the same
  // pattern lie in the same linear region of the decoder: their Jacobians are equal.
  static torch::Tensor activation_pattern(const Trace& trace);

  // Floating-point operations per image of one forward pass and of one backward pass.
  double forward_flops() const;
  double backward_flops() const;

 private:
  std::vector<torch::Tensor> weights_;  // (out, in) each, hidden layers then the output layer
  std::vector<torch::Tensor> biases_;   // (out) each
  int64_t latent_dim_ = 0, pixels_ = 0;
};

}  // namespace preimage::solvers
