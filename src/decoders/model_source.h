#pragma once
// Where a generative model comes from, and the one place that builds its Decoder (and Encoder)
// for the solvers, the analysis and the report: nothing else constructs one.
//   checkpoint   preimage's own VAE (model.pt, written by `preimage train`): the fast path
//   decoder      a TorchScript module (--decoder FILE.pt, with --encoder FILE.pt optionally):
//                the generic autograd path
//   weights      a dense ReLU model by its matrices (--weights FILE.npz, a folder of .npy, or
//                Keras's .h5 / .weights.h5): the fast path
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoders/decoder.h"
#include "decoders/dense_weights.h"
#include "decoders/encoder.h"
#include "decoders/torch_module.h"
#include "model/vae.h"

namespace preimage::decoders {

struct ModelSource {
  std::filesystem::path checkpoint;  // preimage's VAE checkpoint
  std::filesystem::path decoder;     // a TorchScript decoder
  std::filesystem::path encoder;     // a TorchScript encoder, with `decoder` (optional)
  std::filesystem::path weights;     // dense weights: .npz, folder of .npy, .h5, .weights.h5
  DecoderOutput output = DecoderOutput::kLogits;      // what `decoder`'s forward returns
  WeightsLayout layout = WeightsLayout::kAuto;        // `weights`' matrices
  std::optional<int64_t> latent_dim;  // L, where the module cannot say (TorchScript)
  std::vector<int64_t> image_shape;   // (H, W) or (C, H, W) of `weights`' flat output; empty:
                                      // square, one channel
  std::string device = "cpu";         // cpu, cuda, cuda:N

  std::string kind() const;  // "vae", "torchscript", "weights"; throws when none or several set
  bool empty() const { return checkpoint.empty() && decoder.empty() && weights.empty(); }
};

// A model ready to decode, differentiate and (where it has an encoder) encode.
struct GenerativeModel {
  std::shared_ptr<const Decoder> decoder;
  std::shared_ptr<const Encoder> encoder;  // null when the model has none
  int64_t image_channels = 1, image_height = 0, image_width = 0;  // decoded images
  // What it is and where it came from, for the manifest: kind, files and their SHA-256,
  // latent dimension, image shape, output, layout, device, description.
  nlohmann::json record;

  int64_t latent_dim() const { return decoder->latent_dim(); }
  int64_t pixels() const { return decoder->pixels(); }
  bool has_encoder() const { return encoder != nullptr; }
  // The encoder; throws UserError saying `what_for` needs one when the model has none.
  const Encoder& require_encoder(const std::string& what_for) const;
  // sigmoid(D(y)) of latents `y` (N, L) in batches of `batch`: images (N, P) in [0, 1], on the CPU.
  torch::Tensor decode_images(const torch::Tensor& y, int64_t batch = 4096) const;
};

// Opens the model `source` names, probes it (a forward pass on a small batch: the latent
// dimension, the image shape, finite outputs, the encoder's fit) and logs what it found. Throws
// UserError naming the file and what was expected, before any long work.
GenerativeModel open_model(const ModelSource& source);

// The fast-path model of a VAE in memory (its decoder's weights copied; its encoder shared).
GenerativeModel vae_model(const model::Vae& vae);

// The source a model record describes (the inverse of GenerativeModel::record's source part).
// Throws UserError naming `where` when the record is malformed, or when a file's SHA-256 is no
// longer the one recorded (the file changed since).
ModelSource source_of_record(const nlohmann::json& record, const std::string& where);

// The device a name means ("cpu", "cuda", "cuda:1"); throws UserError when it is unknown or
// not available in this build.
torch::Device parse_device(const std::string& name);

}  // namespace preimage::decoders
