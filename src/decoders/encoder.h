#pragma once
// A generative model's encoder E, where it has one: images (B, P) with values in [0, 1] to the
// mean (and, for a VAE, the log-variance) of the latent posterior. The encoder's means are the
// latent space MT and the inversion's default start; the fixed-point method iterates with E.
#include <functional>

#include <torch/torch.h>

namespace preimage::decoders {

struct Encoding {
  torch::Tensor mean;    // (B, L)
  torch::Tensor logvar;  // (B, L), undefined when the encoder gives none
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual int64_t latent_dim() const = 0;
  virtual Encoding encode(const torch::Tensor& images) const = 0;  // images (B, P)

  // The means of `images` (N, P), `batch` images at a time: (N, L).
  torch::Tensor means(const torch::Tensor& images, int64_t batch = 5000) const;
};

// An encoder given as a function images -> means (tests, simple models).
class FunctionEncoder : public Encoder {
 public:
  using Function = std::function<torch::Tensor(const torch::Tensor& images)>;
  FunctionEncoder(int64_t latent_dim, Function means) : latent_dim_(latent_dim), means_(std::move(means)) {}
  int64_t latent_dim() const override { return latent_dim_; }
  Encoding encode(const torch::Tensor& images) const override { return {means_(images), {}}; }

 private:
  int64_t latent_dim_;
  Function means_;
};

}  // namespace preimage::decoders
