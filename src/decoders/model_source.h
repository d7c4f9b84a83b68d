#pragma once
// Where a generative model comes from, and the one place that builds its Decoder (and Encoder)
// for the solvers, the analysis and the report: nothing else constructs one.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "decoders/decoder.h"
#include "decoders/encoder.h"
#include "model/vae.h"

namespace preimage::decoders {

struct ModelSource {
  std::filesystem::path checkpoint;  // a VAE checkpoint written by `preimage train` (model.pt)
};

// A model ready to decode, differentiate and (where it has an encoder) encode.
struct GenerativeModel {
  std::shared_ptr<const Decoder> decoder;
  std::shared_ptr<const Encoder> encoder;  // null when the model has none
  int64_t image_height = 0, image_width = 0;  // decoded images are height x width
  nlohmann::json record;  // what it is and where it came from (for manifests)

  int64_t latent_dim() const { return decoder->latent_dim(); }
  int64_t pixels() const { return decoder->pixels(); }
  bool has_encoder() const { return encoder != nullptr; }
  // The encoder; throws UserError saying `what_for` needs one when the model has none.
  const Encoder& require_encoder(const std::string& what_for) const;
  // sigmoid(D(y)) of latents `y` (N, L) in batches of `batch`: images (N, P) in [0, 1].
  torch::Tensor decode_images(const torch::Tensor& y, int64_t batch = 4096) const;
};

// Opens the model `source` names. Throws UserError naming the file when it cannot be read or is
// not a model.
GenerativeModel open_model(const ModelSource& source);

// The fast-path model of a VAE in memory (its decoder's weights copied; its encoder shared).
GenerativeModel vae_model(const model::Vae& vae);

}  // namespace preimage::decoders
