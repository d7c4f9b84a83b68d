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
  require(j.is_object() && j.contains("kind") && j.at("kind") == "dense-vae",
          fmt::format("architecture record {} is not a dense-vae", j.dump()));
  auto field = [&](const char* key) {
    require(j.contains(key) && j.at(key).is_number_integer(),
            fmt::format("incomplete VAE architecture record: '{}' is missing or not a whole number",
                        key));
    return j.at(key).get<int64_t>();
  };
  c.image_height = field("image_height");
  c.image_width = field("image_width");
  c.latent_dim = field("latent_dim");
  c.hidden_width = field("hidden_width");
  c.encoder_depth = field("encoder_depth");
  c.decoder_depth = field("decoder_depth");
  return c;
}

void VaeConfig::check_sizes(const std::string& source) const {
  auto within = [&](const char* key, const char* flag, int64_t value, int64_t low, int64_t high) {
    require(value >= low && value <= high,
            fmt::format("{}: {} ({}) is {}, expected {} to {}", source, key, flag, value, low, high),
            "give sizes within those bounds");
  };
  within("latent_dim", "--latent-dim", latent_dim, 1, 1024);
  within("hidden_width", "--hidden-width", hidden_width, 1, 16384);
  within("encoder_depth", "--encoder-depth", encoder_depth, 0, 64);
  within("decoder_depth", "--decoder-depth", decoder_depth, 0, 64);
  within("image_height", "the images' height", image_height, 1, 4096);
  within("image_width", "the images' width", image_width, 1, 4096);
  // Weights and biases of both MLPs, counted in double: the bounds above keep it finite.
  auto mlp = [&](double in, double depth, double out) {
    const double w = static_cast<double>(hidden_width);
    return depth == 0 ? in * out + out : in * w + w + (depth - 1) * (w * w + w) + w * out + out;
  };
  const double p = static_cast<double>(pixels()), l = static_cast<double>(latent_dim);
  const double parameters = mlp(p, static_cast<double>(encoder_depth), 2 * l) +
                            mlp(l, static_cast<double>(decoder_depth), p);
  require(parameters <= 1e9,
          fmt::format("{}: a VAE of {} has {:.3g} parameters, more than the 10^9 this tool builds",
                      source, describe(), parameters),
          "give a smaller --hidden-width or depth");
}

std::string VaeConfig::describe() const {
  return fmt::format("encoder {}-[{}x{}]-{}x2, decoder {}-[{}x{}]-{} ({}x{} images)", pixels(),
                     encoder_depth, hidden_width, latent_dim, latent_dim, decoder_depth,
                     hidden_width, pixels(), image_height, image_width);
}

bool VaeConfig::operator==(const VaeConfig& o) const { return to_json() == o.to_json(); }

VaeImpl::VaeImpl(const VaeConfig& config) : config_(config) {
  config.check_sizes("the VAE's architecture");
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

torch::Tensor reparameterize(const torch::Tensor& mean, const torch::Tensor& logvar) {
  return mean + torch::exp(0.5 * logvar) * torch::randn_like(mean);
}

VaeOutput VaeImpl::forward(const torch::Tensor& images) {
  auto [mean, logvar] = encode(images);
  auto z = reparameterize(mean, logvar);
  return {decode(z), mean, logvar, z};
}

}  // namespace preimage::model
