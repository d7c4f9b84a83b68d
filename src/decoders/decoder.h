#pragma once
// What the solvers ask of a generative model's decoder D: decode a batch of latents into logits,
// and differentiate with respect to the latents only (the weights stay fixed). A decoder that is
// piecewise linear (ReLU) can say more: its activation pattern, which tells where its Jacobian
// is the same. Implementations: the dense ReLU engine (dense_relu.h, the fast path) and any
// LibTorch module differentiated by autograd (torch_module.h); the encoder beside it is optional
// (fixed-point needs one).
#include <string>
#include <vector>

#include <torch/torch.h>

namespace preimage::decoders {

// What a forward pass keeps for the derivatives at the same points: per-point tensors with a
// leading batch dimension, each meaning what the decoder that made it says (the dense engine:
// its hidden activations). Rows can be selected and merged like the points they belong to.
struct Trace {
  std::vector<torch::Tensor> rows;  // (B, ...) each
  // An autograd decoder's graph of the whole batch: its latents (a leaf) and its logits. Kept
  // while the trace is the forward pass's own; a selection or a merge drops it (the decoder then
  // rebuilds it from the rows when asked for a derivative).
  torch::Tensor graph_input, graph_output;
  Trace select(const torch::Tensor& index) const;  // the rows `index` (int64) only
  // Row b from `a` where take_a[b], else from `b` (same batch size, same decoder).
  static Trace where(const torch::Tensor& take_a, const Trace& a, const Trace& b);
};

class Decoder {
 public:
  virtual ~Decoder() = default;

  virtual int64_t latent_dim() const = 0;  // L
  virtual int64_t pixels() const = 0;      // P: decoded images are (B, P)
  virtual torch::Device device() const { return torch::kCPU; }
  virtual torch::Dtype dtype() const { return torch::kFloat32; }
  // One line for logs and records, e.g. "dense ReLU 2-[4x784]-784".
  virtual std::string describe() const = 0;

  // Logits (B, P) of latents `y` (B, L); fills `trace` when given.
  virtual torch::Tensor forward(const torch::Tensor& y, Trace* trace = nullptr) const = 0;
  // Vector-Jacobian product d/dy sum_b <g_b, D(y_b)>: (B, L), from the trace of the forward pass
  // at y and the logits' gradient `g_logits` (B, P).
  virtual torch::Tensor backward(const Trace& trace, const torch::Tensor& g_logits) const = 0;
  // Jacobian d logits / d y (B, L, P): row k is d D(y) / d y_k (contiguous, so per-image products
  // are plain reductions).
  virtual torch::Tensor jacobian(const Trace& trace) const = 0;

  // A piecewise-linear decoder's activation pattern (B, units) bool: points with the same
  // pattern lie in one linear region, where the Jacobian is the same. Undefined when the decoder
  // cannot say (then no solver reuses a Jacobian).
  virtual torch::Tensor activation_pattern(const Trace& /*trace*/) const { return {}; }

  // Floating-point operations per image of one forward pass, and of one backward pass (0:
  // unknown). For the benchmarks' rates.
  virtual double forward_flops() const { return 0; }
  virtual double backward_flops() const { return forward_flops(); }
};

}  // namespace preimage::decoders
