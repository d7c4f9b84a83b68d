#pragma once
// The fast path: a dense ReLU decoder (the thesis's 4 x Dense(784, ReLU) -> Dense(784)) with
// hand-written forward and backward passes over its weights (no autograd graph, no weight
// gradients): per layer one large matrix product, so the work runs at close to the BLAS's GEMM
// rate. Its trace rows are the latents (B, L), then the post-ReLU output of each hidden layer
// (B, H).
#include <vector>

#include "decoders/decoder.h"
#include "model/mlp.h"

namespace preimage::decoders {

class DenseReluDecoder : public Decoder {
 public:
  // Copies the network's weights (detached); later changes to it are not seen.
  explicit DenseReluDecoder(const model::Mlp& network);
  // From the layers' matrices: weights[i] (out, in), biases[i] (out); hidden layers then output.
  DenseReluDecoder(std::vector<torch::Tensor> weights, std::vector<torch::Tensor> biases);

  int64_t latent_dim() const override { return latent_dim_; }
  int64_t pixels() const override { return pixels_; }
  torch::Device device() const override { return weights_.front().device(); }
  torch::Dtype dtype() const override { return weights_.front().scalar_type(); }
  std::string describe() const override;

  torch::Tensor forward(const torch::Tensor& y, Trace* trace = nullptr) const override;
  torch::Tensor backward(const Trace& trace, const torch::Tensor& g_logits) const override;
  // By forward-mode propagation of the L latent directions (L is small).
  torch::Tensor jacobian(const Trace& trace) const override;
  torch::Tensor activation_pattern(const Trace& trace) const override;

  double forward_flops() const override;

  // The layers' matrices (out, in) and biases (out), hidden layers then the output layer: what a
  // bound propagation through the network reads (certify/cell_bounds.h).
  const std::vector<torch::Tensor>& weights() const { return weights_; }
  const std::vector<torch::Tensor>& biases() const { return biases_; }

 private:
  std::vector<torch::Tensor> weights_;  // (out, in) each, hidden layers then the output layer
  std::vector<torch::Tensor> biases_;   // (out) each
  int64_t latent_dim_ = 0, pixels_ = 0;
};

}  // namespace preimage::decoders
