#pragma once
// The thesis's variational autoencoder (section 2.1; the TensorFlow CVAE tutorial with dense
// layers): encoder 5 x Dense(784, ReLU) -> Dense(2L) split into mean and log-variance; decoder
// 4 x Dense(784, ReLU) -> Dense(784) logits. Widths and depths are settings so that tests can
// use tiny models and other data sets other image sizes.
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/mlp.h"

namespace preimage::model {

struct VaeConfig {
  int64_t image_height = 28;   // decoded images are height x width
  int64_t image_width = 28;
  int64_t latent_dim = 2;      // L, the thesis's choice (figures of the latent plane)
  int64_t hidden_width = 784;  // units of every hidden Dense layer
  int64_t encoder_depth = 5;   // hidden layers of the encoder
  int64_t decoder_depth = 4;   // hidden layers of the decoder

  int64_t pixels() const { return image_height * image_width; }
  // Throws UserError unless every size is one this tool builds (L 1..1024, width 1..16384,
  // depths 0..64, images up to 4096 x 4096, at most 10^9 parameters), before anything is
  // allocated; `source` says where the sizes came from ("the flags", "checkpoint 'x'").
  void check_sizes(const std::string& source) const;
  nlohmann::json to_json() const;
  static VaeConfig from_json(const nlohmann::json& j);  // throws UserError on missing keys
  std::string describe() const;  // one line, e.g. "784-[5x784]-2 / 2-[4x784]-784"
  bool operator==(const VaeConfig& o) const;
};

struct EncoderOutput {
  torch::Tensor mean;    // (B, L)
  torch::Tensor logvar;  // (B, L)
};

struct VaeOutput {
  torch::Tensor logits;  // (B, H*W) decoder logits of the sampled latent
  torch::Tensor mean;    // (B, L)
  torch::Tensor logvar;  // (B, L)
  torch::Tensor z;       // (B, L) the reparameterized sample
};

// The reparameterized sample z = mean + exp(logvar / 2) * eps, eps ~ N(0, I) drawn from
// LibTorch's default generator: (B, L), (B, L) -> (B, L).
torch::Tensor reparameterize(const torch::Tensor& mean, const torch::Tensor& logvar);

class VaeImpl : public torch::nn::Module {
 public:
  explicit VaeImpl(const VaeConfig& config);

  EncoderOutput encode(const torch::Tensor& images);  // (B, H*W) -> mean, logvar
  torch::Tensor decode(const torch::Tensor& latents);  // (B, L) -> logits (B, H*W)
  // One Monte Carlo sample z = mean + exp(logvar / 2) * eps, eps from the global generator.
  VaeOutput forward(const torch::Tensor& images);

  const VaeConfig& config() const { return config_; }
  Mlp encoder() const { return encoder_; }
  Mlp decoder() const { return decoder_; }

 private:
  VaeConfig config_;
  Mlp encoder_{nullptr}, decoder_{nullptr};
};
TORCH_MODULE(Vae);

}  // namespace preimage::model
