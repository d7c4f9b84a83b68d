#pragma once
// The generic path: a decoder (or an encoder) given as any LibTorch module, a TorchScript file
// loaded with torch::jit::load or a C++ function of the latents. Derivatives come from autograd
// with respect to the latents only (the module's weights are frozen: no weight gradients):
//   vector-Jacobian product   one backward pass through the forward pass's graph;
//   Jacobian (B, L, P)        L more backward passes by double backward: with u (B, P) a
//                             dummy cotangent, g(u) = J^T u is linear in u, and d/du of
//                             g(u)_k is row k of J (LibTorch 1.13's forward-mode AD is internal
//                             and unreliable through TorchScript).
// Outputs (B, P) or (B, C, H, W) are flattened to (B, P); a decoder that outputs probabilities is
// read through the logit (its probabilities clamped to [1e-7, 1 - 1e-7]).
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "decoders/decoder.h"
#include "decoders/encoder.h"

namespace preimage::decoders {

// What a decoder's forward returns.
enum class DecoderOutput { kLogits, kProbabilities };
DecoderOutput parse_decoder_output(const std::string& name);  // "logits" | "probabilities"
std::string decoder_output_name(DecoderOutput output);

// A batch function of tensors, thread-safe for inference: (B, ...) -> (B, ...).
using ModuleFunction = std::function<torch::Tensor(const torch::Tensor&)>;

class TorchModuleDecoder : public Decoder {
 public:
  // `function` maps latents (B, latent_dim) to outputs (B, image_shape...), as `output` says.
  TorchModuleDecoder(ModuleFunction function, int64_t latent_dim, std::vector<int64_t> image_shape,
                     DecoderOutput output, torch::Device device, torch::Dtype dtype,
                     std::string description);

  int64_t latent_dim() const override { return latent_dim_; }
  int64_t pixels() const override { return pixels_; }
  torch::Device device() const override { return device_; }
  torch::Dtype dtype() const override { return dtype_; }
  std::string describe() const override { return description_; }
  const std::vector<int64_t>& image_shape() const { return image_shape_; }  // without the batch

  torch::Tensor forward(const torch::Tensor& y, Trace* trace = nullptr) const override;
  torch::Tensor backward(const Trace& trace, const torch::Tensor& g_logits) const override;
  torch::Tensor jacobian(const Trace& trace) const override;

 private:
  torch::Tensor logits_of(const torch::Tensor& y) const;  // (B, P), with a graph when enabled
  // The trace's graph, or one rebuilt from its latents: (latents leaf, logits).
  std::pair<torch::Tensor, torch::Tensor> graph(const Trace& trace) const;

  ModuleFunction function_;
  int64_t latent_dim_ = 0, pixels_ = 0;
  std::vector<int64_t> image_shape_;
  DecoderOutput output_;
  torch::Device device_;
  torch::Dtype dtype_;
  std::string description_;
};

// An encoder given as a LibTorch module whose forward maps images to the mean (B, L), to a
// (mean, logvar) tuple, or to a (B, 2L) tensor split as the thesis's encoder is.
class TorchModuleEncoder : public Encoder {
 public:
  // The module's forward as a function of an IValue (a tuple output comes back as a tuple).
  using RawFunction = std::function<c10::IValue(const torch::Tensor&)>;
  // `input_shape`: the image shape the module takes, without the batch ({P} or {C, H, W}).
  TorchModuleEncoder(RawFunction function, int64_t latent_dim, std::vector<int64_t> input_shape);
  int64_t latent_dim() const override { return latent_dim_; }
  Encoding encode(const torch::Tensor& images) const override;  // images (B, P)

 private:
  RawFunction function_;
  int64_t latent_dim_;
  std::vector<int64_t> input_shape_;
};

// How an encoder's output maps to (mean, logvar) for latent dimension `latent_dim`; throws
// UserError (naming `what`) for any other output.
Encoding encoding_of(const c10::IValue& output, int64_t batch, int64_t latent_dim,
                     const std::string& what);

}  // namespace preimage::decoders
