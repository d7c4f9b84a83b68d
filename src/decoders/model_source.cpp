#include "decoders/model_source.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "decoders/dense_relu.h"
#include "model/checkpoint.h"
#include "util/error.h"

namespace preimage::decoders {
namespace {

// The VAE's encoder: its mean and log-variance heads.
class VaeEncoder : public Encoder {
 public:
  explicit VaeEncoder(model::Vae vae) : vae_(std::move(vae)) {}
  int64_t latent_dim() const override { return vae_->config().latent_dim; }
  Encoding encode(const torch::Tensor& images) const override {
    torch::NoGradGuard no_grad;
    auto out = vae_->encode(images.to(torch::kFloat32));
    return {out.mean, out.logvar};
  }

 private:
  mutable model::Vae vae_;  // inference only (no state changes): safe from several threads
};

}  // namespace

const Encoder& GenerativeModel::require_encoder(const std::string& what_for) const {
  require(encoder != nullptr, fmt::format("{} needs the model's encoder, and this model has none",
                                          what_for),
          "give a model with an encoder, or start from the prior or the grid");
  return *encoder;
}

torch::Tensor GenerativeModel::decode_images(const torch::Tensor& y, int64_t batch) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < y.size(0); b += batch) {
    auto chunk = y.slice(0, b, std::min(b + batch, y.size(0))).to(decoder->dtype());
    parts.push_back(torch::sigmoid(decoder->forward(chunk)));
  }
  if (parts.empty()) return torch::zeros({0, pixels()});
  return torch::cat(parts, 0);
}

GenerativeModel vae_model(const model::Vae& vae) {
  GenerativeModel m;
  m.decoder = std::make_shared<DenseReluDecoder>(vae->decoder());
  m.encoder = std::make_shared<VaeEncoder>(vae);
  m.image_height = vae->config().image_height;
  m.image_width = vae->config().image_width;
  m.record = {{"kind", "vae"}, {"architecture", vae->config().to_json()}};
  return m;
}

GenerativeModel open_model(const ModelSource& source) {
  auto vae = model::load_vae(source.checkpoint);
  vae->eval();
  auto m = vae_model(vae);
  m.record["path"] = std::filesystem::absolute(source.checkpoint).string();
  return m;
}

}  // namespace preimage::decoders
