#include "model/vae.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::model {

nlohmann::json VaeConfig::to_json() const {
  return {{"kind", "dense-vae"},          {"image_height", image_height},
          {"image_width", image_width},   {"latent_dim", latent_dim},
          {"hidden_width", hidden_width}, {"encoder_depth", encoder_depth},
          {"decoder_depth", decoder_depth}};
}

VaeConfig VaeConfig::from_json(const nlohmann::json& j) {
  VaeConfig c;
  try {
    require(j.at("kind").get<std::string>() == "dense-vae",
            fmt::format("architecture kind '{}' is not a dense-vae", j.at("kind").dump()));
    c.image_height = j.at("image_height");
    c.image_width = j.at("image_width");
    c.latent_dim = j.at("latent_dim");
    c.hidden_width = j.at("hidden_width");
    c.encoder_depth = j.at("encoder_depth");
    c.decoder_depth = j.at("decoder_depth");
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("incomplete VAE architecture record: {}", e.what()));
  }
  return c;
}

std::string VaeConfig::describe() const {
  return fmt::format("encoder {}-[{}x{}]-{}x2, decoder {}-[{}x{}]-{} ({}x{} images)", pixels(),
                     encoder_depth, hidden_width, latent_dim, latent_dim, decoder_depth,
                     hidden_width, pixels(), image_height, image_width);
}

bool VaeConfig::operator==(const VaeConfig& o) const { return to_json() == o.to_json(); }

VaeImpl::VaeImpl(const VaeConfig& config) : config_(config) {
  require(config.latent_dim > 0 && config.hidden_width > 0 && config.pixels() > 0,
          "VAE sizes must be positive");
  encoder_ = register_module(
      "encoder", Mlp(MlpShape{config.pixels(), config.hidden_width, config.encoder_depth,
                              2 * config.latent_dim}));
  decoder_ = register_module(
      "decoder", Mlp(MlpShape{config.latent_dim, config.hidden_width, config.decoder_depth,
                              config.pixels()}));
}

EncoderOutput VaeImpl::encode(const torch::Tensor& images) {
  auto out = encoder_->forward(images);  // (B, 2L): mean then log-variance, as tf.split
  auto parts = out.chunk(2, /*dim=*/1);
  return {parts[0], parts[1]};
}

torch::Tensor VaeImpl::decode(const torch::Tensor& latents) { return decoder_->forward(latents); }

VaeOutput VaeImpl::forward(const torch::Tensor& images) {
  auto [mean, logvar] = encode(images);
  auto z = mean + torch::exp(0.5 * logvar) * torch::randn_like(mean);
  return {decode(z), mean, logvar, z};
}

}  // namespace preimage::model
