#include "decoders/dense_weights.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/archives.h"
#include "util/error.h"

namespace preimage::decoders {
namespace fs = std::filesystem;
namespace {

const char* kHint =
    "give an .npz (numpy.savez of the state_dict, or of Keras's kernels and biases), a folder of "
    ".npy files, or the .h5 / .weights.h5 Keras's save_weights wrote";

std::vector<std::string> split_name(const std::string& name) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : name) {
    if (c == '/' || c == '.') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  for (auto& p : parts)  // TensorFlow's ":0" suffix
    if (const auto colon = p.find(':'); colon != std::string::npos) p = p.substr(0, colon);
  return parts;
}

// Natural order: "dense" < "dense_2" < "dense_10", "decoder/0" < "decoder/10".
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      const auto na = std::stoull(a.substr(i, std::min<size_t>(i2 - i, 18)));
      const auto nb = std::stoull(b.substr(j, std::min<size_t>(j2 - j, 18)));
      if (na != nb) return na < nb;
      i = i2, j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

struct RawLayer {
  torch::Tensor matrix, bias;
};

// What the file says of the layers of one part: prefix -> (matrix, bias).
using Group = std::map<std::string, RawLayer>;

DenseLayers assemble(const Group& group, WeightsLayout layout, const fs::path& path,
                     const std::string& part) {
  std::vector<std::string> names;
  for (const auto& [name, layer] : group) names.push_back(name);
  std::sort(names.begin(), names.end(), natural_less);
  DenseLayers out;
  for (const auto& name : names) {
    const auto& l = group.at(name);
    require(l.matrix.defined() && l.bias.defined(),
            fmt::format("'{}': layer '{}' of the {} has {} but no {}", path.string(), name, part,
                        l.matrix.defined() ? "a matrix" : "a bias",
                        l.matrix.defined() ? "bias" : "matrix"),
            "every dense layer needs its weight matrix and its bias");
    auto w = layout == WeightsLayout::kKeras ? l.matrix.t() : l.matrix;
    require(w.size(0) == l.bias.size(0),
            fmt::format("'{}': layer '{}' has a matrix of {}x{} and a bias of {} values, which do "
                        "not match in the {} layout",
                        path.string(), name, l.matrix.size(0), l.matrix.size(1), l.bias.size(0),
                        weights_layout_name(layout)),
            "check --weights-layout (pytorch: (out, in); keras: (in, out))");
    out.weights.push_back(w.contiguous());
    out.biases.push_back(l.bias.contiguous());
    out.names.push_back(name);
  }
  for (size_t i = 1; i < out.weights.size(); ++i)
    require(out.weights[i].size(1) == out.weights[i - 1].size(0),
            fmt::format("'{}': in the {}, layer '{}' takes {} inputs but layer '{}' gives {}",
                        path.string(), part, out.names[i], out.weights[i].size(1),
                        out.names[i - 1], out.weights[i - 1].size(0)),
            "the layers must chain in the natural order of their names");
  return out;
}

// The layout all layers agree on, from the non-square ones.
WeightsLayout detect_layout(const std::vector<const Group*>& groups, const fs::path& path) {
  bool pytorch = false, keras = false;
  for (const auto* g : groups)
    for (const auto& [name, l] : *g) {
      if (!l.matrix.defined() || !l.bias.defined()) continue;
      const int64_t rows = l.matrix.size(0), cols = l.matrix.size(1), b = l.bias.size(0);
      if (rows == b && cols != b) pytorch = true;
      if (cols == b && rows != b) keras = true;
    }
  require(!(pytorch && keras),
          fmt::format("'{}' mixes the PyTorch (out, in) and Keras (in, out) layouts",
                      path.string()),
          "export every layer the same way");
  require(pytorch || keras,
          fmt::format("'{}': every matrix is square, so the layout cannot be told from the shapes",
                      path.string()),
          "say it: --weights-layout pytorch (out, in) or keras (in, out)");
  return pytorch ? WeightsLayout::kPyTorch : WeightsLayout::kKeras;
}

}  // namespace

WeightsLayout parse_weights_layout(const std::string& name) {
  if (name == "auto") return WeightsLayout::kAuto;
  if (name == "pytorch") return WeightsLayout::kPyTorch;
  if (name == "keras") return WeightsLayout::kKeras;
  throw UserError(fmt::format("unknown weights layout '{}'", name),
                  "use auto, pytorch (out, in) or keras (in, out)");
}

std::string weights_layout_name(WeightsLayout layout) {
  switch (layout) {
    case WeightsLayout::kAuto: return "auto";
    case WeightsLayout::kPyTorch: return "pytorch (out, in)";
    case WeightsLayout::kKeras: return "keras (in, out)";
  }
  return "auto";
}

DenseWeights read_dense_weights(const fs::path& path, WeightsLayout layout) {
  require(fs::exists(path), fmt::format("weights '{}' do not exist", path.string()), kHint);
  DenseWeights out;
  std::vector<data::NamedArray> arrays;
  const std::string name = path.filename().string();
  if (fs::is_directory(path)) {
    arrays = data::read_npy_folder(path);
    out.format = "npy folder";
  } else if (path.extension() == ".npz") {
    arrays = data::read_npz(path);
    out.format = "npz";
  } else if (path.extension() == ".h5" || path.extension() == ".hdf5") {
    arrays = data::read_hdf5_datasets(path);
    out.format = "hdf5";
  } else {
    throw UserError(fmt::format("'{}' is not a weights file this reads (.npz, a folder of .npy, "
                                ".h5, .weights.h5)", path.string()),
                    kHint);
  }
  // Group the arrays into layers of parts.
  std::map<std::string, Group> parts;  // part -> layers
  bool named_parts = false;
  for (const auto& [array_name, tensor] : arrays) {
    auto tokens = split_name(array_name);
    if (tokens.empty() || tokens.front() == "optimizer_weights") continue;  // Keras's full save
    if (tokens.front() == "model_weights") tokens.erase(tokens.begin());
    tokens.erase(std::remove(tokens.begin(), tokens.end(), "vars"), tokens.end());
    if (tokens.size() < 2) continue;  // a bare array: no layer
    std::string part = tokens.front();
    for (const auto& t : tokens)
      if (t == "encoder" || t == "decoder") part = t, named_parts = true;
    std::string prefix;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) prefix += (i ? "/" : "") + tokens[i];
    require(tensor.dim() == 1 || tensor.dim() == 2,
            fmt::format("'{}': '{}' has {} dimensions: not a dense layer's matrix or bias",
                        path.string(), array_name, tensor.dim()),
            "only dense (fully connected) layers are read from weights files; export other "
            "decoders as TorchScript (--decoder)");
    auto& layer = parts[part][prefix];
    auto& slot = tensor.dim() == 2 ? layer.matrix : layer.bias;
    require(!slot.defined(),
            fmt::format("'{}': layer '{}' has two {}", path.string(), prefix,
                        tensor.dim() == 2 ? "matrices" : "biases"));
    slot = tensor.to(torch::kFloat32);
  }
  if (named_parts) {
    for (auto it = parts.begin(); it != parts.end();)
      it = (it->first == "encoder" || it->first == "decoder") ? std::next(it) : parts.erase(it);
  }
  require(!parts.empty(), fmt::format("'{}' holds no dense layer (a matrix and a bias under one "
                                      "name)", path.string()),
          kHint);
  std::vector<std::string> part_names;
  for (const auto& [p, g] : parts) part_names.push_back(p);
  require(parts.size() <= 2,
          fmt::format("'{}' holds {} groups of layers ({}), expected a decoder and at most an "
                      "encoder",
                      path.string(), parts.size(), fmt::join(part_names, ", ")),
          "name them encoder and decoder, or keep only the decoder's arrays");
  std::vector<const Group*> groups;
  for (const auto& [p, g] : parts) groups.push_back(&g);
  out.layout = layout == WeightsLayout::kAuto ? detect_layout(groups, path) : layout;

  std::map<std::string, DenseLayers> assembled;
  for (const auto& [p, g] : parts) assembled[p] = assemble(g, out.layout, path, p);
  if (named_parts) {
    require(assembled.count("decoder"),
            fmt::format("'{}' names an encoder but no decoder", path.string()), kHint);
    out.decoder = assembled["decoder"];
    if (assembled.count("encoder")) out.encoder = assembled["encoder"];
  } else if (assembled.size() == 1) {
    out.decoder = assembled.begin()->second;
  } else {  // the decoder starts from the fewest inputs (the latents)
    auto a = assembled.begin(), b = std::next(a);
    const bool a_decodes = a->second.inputs() <= b->second.inputs();
    out.decoder = a_decodes ? a->second : b->second;
    out.encoder = a_decodes ? b->second : a->second;
  }
  const int64_t L = out.decoder.inputs(), P = out.decoder.outputs();
  if (out.has_encoder()) {
    require(out.encoder.inputs() == P,
            fmt::format("'{}': the encoder takes {} inputs but the decoder makes {} pixels",
                        path.string(), out.encoder.inputs(), P),
            "the encoder and the decoder must be of the same model");
    require(out.encoder.outputs() == L || out.encoder.outputs() == 2 * L,
            fmt::format("'{}': the encoder gives {} outputs, expected {} (the mean) or {} (mean "
                        "and log-variance) for the decoder's {} latents",
                        path.string(), out.encoder.outputs(), L, 2 * L, L),
            "the encoder and the decoder must be of the same model");
  }
  return out;
}

}  // namespace preimage::decoders
