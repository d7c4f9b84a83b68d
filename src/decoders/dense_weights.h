#pragma once
// A dense ReLU decoder (and encoder) given by its matrices: a NumPy .npz or a folder of .npy
// files (PyTorch's state_dict names, Keras's names, or any names), or the HDF5 weights Keras
// writes (Keras 2 `.h5`, Keras 3 `.weights.h5`): the thesis's CVAE, as its authors saved it.
//   layers    a 2-D array (the matrix) and a 1-D array (the bias) under the same name prefix
//             ("decoder.0" in "decoder.0.weight"; "sequential_1/dense_6" in Keras 2's
//             "sequential_1/dense_6/kernel:0"; "decoder/layers/dense_2" in Keras 3's
//             "decoder/layers/dense_2/vars/0"), in natural order of their names;
//   parts     names with an "encoder" or "decoder" component say which; otherwise the groups
//             of the first name component, the decoder being the one that starts from the
//             fewest inputs (the latent dimension);
//   layout    PyTorch (out, in) or Keras (in, out), told apart by the bias's length where a
//             matrix is not square (all layers share one layout); --weights-layout otherwise.
// The decoder is ReLU between its layers, linear at the end, its output the logits; the encoder's
// output is the mean (B, L) or, as the thesis's, (B, 2L): mean then log-variance.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace preimage::decoders {

enum class WeightsLayout { kAuto, kPyTorch, kKeras };
WeightsLayout parse_weights_layout(const std::string& name);  // auto | pytorch | keras
std::string weights_layout_name(WeightsLayout layout);

struct DenseLayers {
  std::vector<torch::Tensor> weights;  // (out, in) each, float32
  std::vector<torch::Tensor> biases;   // (out) each
  std::vector<std::string> names;      // each layer's name prefix in the file
  int64_t inputs() const { return weights.front().size(1); }
  int64_t outputs() const { return weights.back().size(0); }
};

struct DenseWeights {
  DenseLayers decoder;
  DenseLayers encoder;        // empty when the file holds none
  WeightsLayout layout;       // the one found (kPyTorch or kKeras)
  std::string format;         // "npz", "npy folder", "hdf5"
  bool has_encoder() const { return !encoder.weights.empty(); }
};

// Reads and assembles `path`; throws UserError naming the file and what was expected (an unknown
// format, arrays that pair into no layers, layers that do not chain, an ambiguous layout, an
// encoder that does not fit the decoder).
DenseWeights read_dense_weights(const std::filesystem::path& path, WeightsLayout layout);

}  // namespace preimage::decoders
