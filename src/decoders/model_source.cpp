#include "decoders/model_source.h"

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <regex>
#include <string>
#include <vector>

#include <caffe2/serialize/versions.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>

#include "decoders/dense_relu.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/isolated.h"
#include "util/memo.h"
#include "util/zip_check.h"

namespace preimage::decoders {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kMaxProbedLatentDim = 1024;  // the latent dimensions tried on a silent module
constexpr int64_t kProbeBatch = 2;

// The VAE's encoder: its mean and log-variance heads.
class VaeEncoder : public Encoder {
 public:
  explicit VaeEncoder(model::Vae vae) : vae_(std::move(vae)) {}
  int64_t latent_dim() const override { return vae_->config().latent_dim; }
  Encoding encode(const torch::Tensor& images) const override {
    torch::NoGradGuard no_grad;
    const auto device = vae_->parameters().front().device();
    auto out = vae_->encode(images.to(device, torch::kFloat32));
    return {out.mean, out.logvar};
  }

 private:
  mutable model::Vae vae_;  // inference only (no state changes): safe from several threads
};

// An encoder given by dense layers: (B, P) -> (B, L) mean, or (B, 2L) mean then log-variance.
class DenseEncoder : public Encoder {
 public:
  DenseEncoder(DenseReluDecoder network, int64_t latent_dim)
      : network_(std::move(network)), latent_dim_(latent_dim) {}
  int64_t latent_dim() const override { return latent_dim_; }
  Encoding encode(const torch::Tensor& images) const override {
    torch::NoGradGuard no_grad;
    return encoding_of(c10::IValue(network_.forward(images.to(network_.device(), network_.dtype()))),
                       images.size(0), latent_dim_, "the weights' encoder");
  }

 private:
  DenseReluDecoder network_;  // used as a plain MLP
  int64_t latent_dim_;
};

// The line of a LibTorch error that says what went wrong: the TorchScript interpreter's message
// ends with it (after its traceback), a plain error starts with it.
// What a model is, said once per process: every step of `run` opens the run's model again.
void say_once(const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (said.insert(message).second)
    spdlog::info("{}", message);
  else
    spdlog::debug("{}", message);
}

std::string cause_of(const std::string& what) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < what.size()) {
    const size_t end = what.find('\n', begin);
    const std::string line = what.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  if (lines.empty()) return what;
  if (lines.front().find("TorchScript interpreter") != std::string::npos) return lines.back();
  return lines.front();
}

nlohmann::json file_record(const fs::path& path) {
  return {{"path", fs::absolute(path).lexically_normal().string()},
          {"sha256", util::sha256_of(path)}};
}

// The format version a TorchScript archive records, or -1 when it cannot be read.
int64_t archive_version(const fs::path& path) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &error);
  if (archive == nullptr) return -1;
  int64_t version = -1;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count && version < 0; ++i) {
    const std::string name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (name.size() < 8 || name.compare(name.size() - 8, 8, "/version") != 0) continue;
    zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    if (f == nullptr) break;
    char buffer[32] = {0};
    const zip_int64_t n = zip_fread(f, buffer, sizeof(buffer) - 1);
    zip_fclose(f);
    if (n > 0) version = std::strtoll(buffer, nullptr, 10);
  }
  zip_close(archive);
  return version;
}

torch::jit::Module load_torchscript(const fs::path& path, const torch::Device& device,
                                    const std::string& role) {
  require(fs::is_regular_file(path),
          fmt::format("{} '{}' does not exist or is not a file", role, path.string()),
          "give the file torch.jit.save wrote (torch.jit.script(model) or torch.jit.trace)");
  const int64_t version = archive_version(path);
  if (version > static_cast<int64_t>(caffe2::serialize::kMaxSupportedFileFormatVersion))
    throw UserError(
        fmt::format("{} '{}' is a TorchScript file of format version {}, written by a newer "
                    "PyTorch than this preimage's LibTorch {} reads (versions up to {})",
                    role, path.string(), version, TORCH_VERSION,
                    caffe2::serialize::kMaxSupportedFileFormatVersion),
        "build preimage against your own LibTorch (README: Your own model), or export a dense "
        "decoder's weights as .npz (numpy.savez) and give them to --weights");
  // LibTorch's reader trusts what it parses: the members' CRCs first (a mangled member is
  // refused here), and after loading, every tensor of the module inside its storage.
  if (version >= 0) util::verify_zip(path, role);
  // Even then a crafted archive can make LibTorch 1.13's reader reserve and fill gigabytes (what
  // a mangled header claims) or crash: it reads the file once in a child process first, with a
  // time limit and a memory budget, and only a file it survived is loaded here.
  const uint64_t file_bytes = fs::file_size(path);
  util::IsolatedLimits limits;
  limits.seconds = util::isolated_seconds_for(file_bytes);
  limits.memory_bytes = std::max<uint64_t>(uint64_t{2} << 30, 8 * file_bytes);
  const std::string trial = util::run_isolated(
      [&] {
        try {
          (void)torch::jit::load(path.string(), torch::kCPU);
        } catch (const std::exception& e) {  // a refusal the load below reports: its message
          (void)e.what();  // too (TorchScript's ErrorReport reads the archive's debug records)
        }
        return 0;
      },
      limits);
  require(trial.empty(),
          fmt::format("{} '{}' cannot be loaded: LibTorch's reader {} on it; the file is corrupt",
                      role, path.string(), trial),
          "export it again with torch.jit.script or torch.jit.trace");
  torch::jit::Module module;
  try {
    module = torch::jit::load(path.string(), torch::kCPU);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) what = c10->what_without_backtrace();
    throw UserError(
        fmt::format("{} '{}' is not a TorchScript module LibTorch {} can load: {}", role,
                    path.string(), TORCH_VERSION, cause_of(what)),
        version < 0 ? "give the file torch.jit.save wrote (a zip archive); a state_dict saved "
                      "with torch.save is no module: script the model, or export its weights "
                      "as .npz for --weights"
                    : "export it again with torch.jit.script or torch.jit.trace");
  }
  for (const auto& a : module.named_attributes(/*recurse=*/true))
    if (a.value.isTensor()) model::require_tensor_inside_storage(a.value.toTensor(), a.name, path, role);
  module.to(device);
  module.eval();
  for (auto p : module.parameters()) p.set_requires_grad(false);
  return module;
}

// The module's forward on a tensor, its failure a UserError naming the file.
c10::IValue call(torch::jit::Module& module, const torch::Tensor& input, const fs::path& path,
                 const std::string& role) {
  try {
    torch::NoGradGuard no_grad;
    return module.forward({input});
  } catch (const std::exception& e) {  // the interpreter throws std::runtime_error
    const std::string what = e.what();
    throw UserError(fmt::format("{} '{}' fails on an input of shape ({}): {}", role,
                                path.string(), fmt::join(input.sizes(), ", "), cause_of(what)),
                    role == "decoder" ? "its forward must take latents (B, L) and return "
                                        "(B, P) or (B, C, H, W)"
                                      : "its forward must take images (B, P) or (B, C, H, W)");
  }
}

// The latent dimension of a TorchScript decoder: its attribute, the user's, or the first that
// its forward accepts.
int64_t probe_latent_dim(torch::jit::Module& module, const ModelSource& source,
                         const torch::Device& device) {
  if (module.hasattr("latent_dim") && module.attr("latent_dim").isInt())
    return module.attr("latent_dim").toInt();
  if (source.latent_dim) return *source.latent_dim;
  for (int64_t L = 1; L <= kMaxProbedLatentDim; ++L) {
    try {
      torch::NoGradGuard no_grad;
      module.forward({torch::zeros({kProbeBatch, L}, device)});
      say_once(fmt::format("decoder {}: takes latents of dimension {} (found by trying)",
                           source.decoder.filename().string(), L));
      return L;
    } catch (const std::exception&) {  // the interpreter throws std::runtime_error
    }
  }
  throw UserError(fmt::format("decoder '{}' accepts no latents (B, L) for L up to {}",
                              source.decoder.string(), kMaxProbedLatentDim),
                  "its forward must take latents (B, L); give --latent-dim if it needs more, or "
                  "check the file");
}

std::vector<int64_t> chw_of(const std::vector<int64_t>& shape, int64_t pixels, const fs::path& file) {
  if (shape.size() == 3) return shape;
  if (shape.size() == 2) return {1, shape[0], shape[1]};
  if (!shape.empty())
    throw UserError(fmt::format("image shape {} has {} dimensions, expected (H, W) or (C, H, W)",
                                fmt::join(shape, "x"), shape.size()));
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(pixels))));
  if (side * side == pixels) return {1, side, side};
  spdlog::warn("{}: {} outputs are no square image; drawn as a strip 1 x {} (give "
               "--image-shape H,W)", file.filename().string(), pixels, pixels);
  return {1, 1, pixels};
}

GenerativeModel open_torchscript(const ModelSource& source, const torch::Device& device) {
  auto module = std::make_shared<torch::jit::Module>(load_torchscript(source.decoder, device, "decoder"));
  const int64_t L = probe_latent_dim(*module, source, device);
  // The probe: finite outputs of a fixed shape for a small batch (zeros and ones).
  auto y = torch::stack({torch::zeros({L}), torch::ones({L})}).to(device);
  const auto out = call(*module, y, source.decoder, "decoder");
  require(out.isTensor(), fmt::format("decoder '{}' returns no tensor", source.decoder.string()),
          "its forward must return the images (B, P) or (B, C, H, W)");
  const auto t = out.toTensor();
  require(t.dim() >= 2 && t.size(0) == kProbeBatch,
          fmt::format("decoder '{}' maps latents ({}, {}) to shape ({}), expected ({}, P) or "
                      "({}, C, H, W)",
                      source.decoder.string(), kProbeBatch, L, fmt::join(t.sizes(), ", "),
                      kProbeBatch, kProbeBatch),
          "its forward must return one image per latent");
  require(torch::isfinite(t).all().item<bool>(),
          fmt::format("decoder '{}' returns NaN or infinite values at latents 0 and 1",
                      source.decoder.string()),
          "check the module's weights");
  std::vector<int64_t> shape(t.sizes().begin() + 1, t.sizes().end());
  const int64_t pixels = t[0].numel();
  if (source.output == DecoderOutput::kProbabilities) {
    require(t.min().item<double>() >= 0 && t.max().item<double>() <= 1,
            fmt::format("decoder '{}' returns values outside [0, 1], not probabilities",
                        source.decoder.string()),
            "drop --decoder-output probabilities if it returns logits");
  } else if (t.min().item<double>() >= 0 && t.max().item<double>() <= 1) {
    spdlog::warn("decoder {}: every probed output lies in [0, 1]: if it ends with a sigmoid, "
                 "give --decoder-output probabilities", source.decoder.filename().string());
  }
  const auto chw = chw_of(shape.size() >= 2 ? shape : source.image_shape, pixels, source.decoder);
  require(chw[0] * chw[1] * chw[2] == pixels,
          fmt::format("image shape {} has {} pixels, decoder '{}' makes {}", fmt::join(chw, "x"),
                      chw[0] * chw[1] * chw[2], source.decoder.string(), pixels));
  GenerativeModel m;
  const auto dtype = t.scalar_type();
  m.decoder = std::make_shared<TorchModuleDecoder>(
      [module](const torch::Tensor& latents) { return module->forward({latents}).toTensor(); }, L,
      shape, source.output, device, dtype,
      fmt::format("TorchScript {} ({} -> {})", source.decoder.filename().string(), L,
                  fmt::join(shape, "x")));
  m.image_channels = chw[0];
  m.image_height = chw[1];
  m.image_width = chw[2];
  m.record = {{"kind", "torchscript"},
              {"decoder", file_record(source.decoder)},
              {"output", decoder_output_name(source.output)},
              {"latent_dim", L},
              {"image_shape", chw},
              {"description", m.decoder->describe()}};
  if (!source.encoder.empty()) {
    auto encoder = std::make_shared<torch::jit::Module>(load_torchscript(source.encoder, device, "encoder"));
    // Flat images first, then shaped ones.
    std::vector<int64_t> input_shape = {pixels};
    c10::IValue probe;
    try {
      torch::NoGradGuard no_grad;
      probe = encoder->forward({torch::zeros({kProbeBatch, pixels}, device)});
    } catch (const std::exception&) {  // the interpreter throws std::runtime_error
      input_shape = chw;
      probe = call(*encoder, torch::zeros({kProbeBatch, chw[0], chw[1], chw[2]}, device),
                   source.encoder, "encoder");
    }
    encoding_of(probe, kProbeBatch, L, fmt::format("encoder '{}'", source.encoder.string()));
    m.encoder = std::make_shared<TorchModuleEncoder>(
        [encoder, device](const torch::Tensor& images) {
          return encoder->forward({images.to(device)});
        },
        L, input_shape);
    m.record["encoder"] = file_record(source.encoder);
  }
  say_once(fmt::format(
      "decoder {}: latents ({}), images {} ({}){}", source.decoder.filename().string(), L,
      fmt::join(chw, "x"), decoder_output_name(source.output),
      m.encoder ? fmt::format(", encoder {}", source.encoder.filename().string()) : ""));
  return m;
}

GenerativeModel open_weights(const ModelSource& source, const torch::Device& device) {
  auto w = read_dense_weights(source.weights, source.layout);
  GenerativeModel m;
  auto to_device = [&](std::vector<torch::Tensor> ts) {
    for (auto& t : ts) t = t.to(device);
    return ts;
  };
  auto decoder = std::make_shared<DenseReluDecoder>(to_device(w.decoder.weights),
                                                    to_device(w.decoder.biases));
  m.decoder = decoder;
  const int64_t L = decoder->latent_dim(), P = decoder->pixels();
  const auto chw = chw_of(source.image_shape, P, source.weights);
  require(chw[0] * chw[1] * chw[2] == P,
          fmt::format("image shape {} has {} pixels, the weights' decoder makes {}",
                      fmt::join(chw, "x"), chw[0] * chw[1] * chw[2], P));
  m.image_channels = chw[0];
  m.image_height = chw[1];
  m.image_width = chw[2];
  if (w.has_encoder())
    m.encoder = std::make_shared<DenseEncoder>(
        DenseReluDecoder(to_device(w.encoder.weights), to_device(w.encoder.biases)), L);
  m.record = {{"kind", "weights"},
              {"weights", file_record(source.weights)},
              {"format", w.format},
              {"layout", weights_layout_name(w.layout)},
              {"latent_dim", L},
              {"image_shape", chw},
              {"encoder", w.has_encoder()},
              {"description", decoder->describe()}};
  say_once(fmt::format("weights {}: {}, layout {}{}; decoder {}{}",
                       source.weights.filename().string(), w.format,
                       weights_layout_name(w.layout),
                       source.layout == WeightsLayout::kAuto ? " (told apart by the shapes)" : "",
                       decoder->describe(),
                       w.has_encoder() ? fmt::format(", encoder {} -> {}", w.encoder.inputs(),
                                                     w.encoder.outputs())
                                       : ", no encoder"));
  return m;
}

}  // namespace

std::string ModelSource::kind() const {
  const int set = !checkpoint.empty() + !decoder.empty() + !weights.empty();
  require(set == 1,
          set == 0 ? std::string("no model given")
                   : "give one model: a checkpoint, --decoder or --weights, not several",
          "--decoder FILE.pt (TorchScript), --weights FILE.npz|.h5, or a preimage checkpoint");
  require(encoder.empty() || !decoder.empty(), "--encoder goes with --decoder (TorchScript)",
          "a --weights file holds its encoder's layers itself");
  if (!checkpoint.empty()) return "vae";
  return !decoder.empty() ? "torchscript" : "weights";
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  require(std::regex_match(name, std::regex(R"(cuda(:\d{1,4})?)")),
          fmt::format("unknown device '{}'", name), "use cpu, cuda or cuda:N");
  require(torch::cuda::is_available(),
          fmt::format("device '{}' asked, but CUDA is not available (this preimage's LibTorch {} "
                      "sees no GPU)",
                      name, TORCH_VERSION),
          "use --device cpu, or build preimage against a LibTorch with CUDA on a machine with "
          "a GPU (README)");
  const int64_t index = name == "cuda" ? 0 : std::stoll(name.substr(5));
  require(index >= 0 && index < static_cast<int64_t>(torch::cuda::device_count()),
          fmt::format("device '{}' does not exist: {} GPU(s)", name, torch::cuda::device_count()));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

const Encoder& GenerativeModel::require_encoder(const std::string& what_for) const {
  require(encoder != nullptr, fmt::format("{} needs the model's encoder, and this model has no encoder",
                                          what_for),
          "give a model with an encoder (--encoder), or start from the prior, the grid or "
          "random:K (--start)");
  return *encoder;
}

torch::Tensor GenerativeModel::decode_images(const torch::Tensor& y, int64_t batch) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < y.size(0); b += batch) {
    auto chunk = y.slice(0, b, std::min(b + batch, y.size(0)))
                     .to(decoder->device(), decoder->dtype());
    parts.push_back(torch::sigmoid(decoder->forward(chunk)).to(torch::kCPU));
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

namespace {

// The memo's key for `source`; "" when it is not to be remembered.
std::string memo_key(const ModelSource& source) {
  std::string key = fmt::format("{}|{}|{}|{}|{}|{}", source.device, decoder_output_name(source.output),
                                weights_layout_name(source.layout),
                                source.latent_dim ? *source.latent_dim : -1,
                                fmt::join(source.image_shape, "x"), source.kind());
  for (const auto* p : {&source.checkpoint, &source.decoder, &source.encoder, &source.weights}) {
    const auto stamp = p->empty() ? std::string("-") : util::file_stamp(*p);
    if (stamp.empty()) return "";
    key += "|" + stamp;
  }
  return key;
}

GenerativeModel open_model_now(const ModelSource& source) {
  const std::string kind = source.kind();
  const auto device = parse_device(source.device);
  if (kind == "torchscript") return open_torchscript(source, device);
  if (kind == "weights") return open_weights(source, device);
  auto vae = model::load_vae(source.checkpoint);
  vae->eval();
  vae->to(device);
  auto m = vae_model(vae);
  m.record["path"] = fs::absolute(source.checkpoint).string();
  return m;
}

}  // namespace

GenerativeModel open_model(const ModelSource& source) {
  // One command opens, probes and hashes a model once: the later steps of the same process
  // (run's encode, invert, analyze, likelihood, report) share the decoder the first opened, as
  // long as its files are unchanged (path, size, modification time).
  static util::Memo<GenerativeModel> opened(4);  // a few models a process
  return opened.get(memo_key(source), [&] { return open_model_now(source); });
}

ModelSource source_of_record(const nlohmann::json& record, const std::string& where) {
  ModelSource s;
  try {
    const std::string kind = record.at("kind");
    auto file = [&](const char* key) {
      const fs::path path = record.at(key).at("path").get<std::string>();
      const std::string recorded = record.at(key).at("sha256");
      require(fs::exists(path), fmt::format("{}: the model file '{}' is gone", where, path.string()),
              "put it back, or make the run again with the model's new place");
      const std::string now = util::sha256_of(path);
      require(now == recorded,
              fmt::format("{}: the model file '{}' changed since the run used it (SHA-256 {} "
                          "then, {} now)", where, path.string(), recorded, now),
              "restore the file, or make a new run with it");
      return path;
    };
    if (kind == "torchscript") {
      s.decoder = file("decoder");
      if (record.contains("encoder")) s.encoder = file("encoder");
      s.output = parse_decoder_output(record.at("output"));
      s.latent_dim = record.at("latent_dim").get<int64_t>();
    } else if (kind == "weights") {
      s.weights = file("weights");
      const std::string layout = record.at("layout");
      s.layout = layout.rfind("keras", 0) == 0 ? WeightsLayout::kKeras : WeightsLayout::kPyTorch;
      s.image_shape = record.at("image_shape").get<std::vector<int64_t>>();
    } else {
      throw UserError(fmt::format("{}: unknown model kind '{}'", where, kind));
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("{}: the model's record is malformed ({})", where, e.what()),
                    "the manifest was edited; make the run again");
  }
  return s;
}

}  // namespace preimage::decoders
