#include "decoders/torch_module.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::decoders {
namespace {
constexpr double kProbabilityClamp = 1e-7;  // probabilities read through the logit: [eps, 1-eps]

int64_t product(const std::vector<int64_t>& shape) {
  int64_t p = 1;
  for (int64_t d : shape) p *= d;
  return p;
}
}  // namespace

DecoderOutput parse_decoder_output(const std::string& name) {
  if (name == "logits") return DecoderOutput::kLogits;
  if (name == "probabilities") return DecoderOutput::kProbabilities;
  throw UserError(fmt::format("unknown decoder output '{}'", name),
                  "use logits (the decoder's last layer is linear) or probabilities (it ends "
                  "with a sigmoid)");
}

std::string decoder_output_name(DecoderOutput output) {
  return output == DecoderOutput::kLogits ? "logits" : "probabilities";
}

// ---- decoder ----------------------------------------------------------------------------------

TorchModuleDecoder::TorchModuleDecoder(ModuleFunction function, int64_t latent_dim,
                                       std::vector<int64_t> image_shape, DecoderOutput output,
                                       torch::Device device, torch::Dtype dtype,
                                       std::string description)
    : function_(std::move(function)),
      latent_dim_(latent_dim),
      pixels_(product(image_shape)),
      image_shape_(std::move(image_shape)),
      output_(output),
      device_(device),
      dtype_(dtype),
      description_(std::move(description)) {}

torch::Tensor TorchModuleDecoder::logits_of(const torch::Tensor& y) const {
  auto out = function_(y);
  out = out.reshape({y.size(0), -1});  // (B, C, H, W) -> (B, P)
  if (output_ == DecoderOutput::kProbabilities)
    out = out.clamp(kProbabilityClamp, 1 - kProbabilityClamp).logit();
  return out;
}

torch::Tensor TorchModuleDecoder::forward(const torch::Tensor& y, Trace* trace) const {
  if (trace == nullptr) {
    torch::NoGradGuard no_grad;
    return logits_of(y);
  }
  torch::AutoGradMode with_grad(true);
  auto leaf = y.detach().requires_grad_(true);
  auto logits = logits_of(leaf);
  trace->rows = {y.detach()};
  trace->graph_input = leaf;
  trace->graph_output = logits;
  return logits.detach();
}

std::pair<torch::Tensor, torch::Tensor> TorchModuleDecoder::graph(const Trace& trace) const {
  if (trace.graph_output.defined()) return {trace.graph_input, trace.graph_output};
  torch::AutoGradMode with_grad(true);
  auto leaf = trace.rows.front().detach().requires_grad_(true);
  return {leaf, logits_of(leaf)};
}

torch::Tensor TorchModuleDecoder::backward(const Trace& trace, const torch::Tensor& g_logits) const {
  torch::AutoGradMode with_grad(true);
  auto [input, output] = graph(trace);
  if (input.size(0) == 0) return torch::zeros_like(input);
  auto g = torch::autograd::grad({output}, {input}, {g_logits}, /*retain_graph=*/true,
                                 /*create_graph=*/false, /*allow_unused=*/true)[0];
  return g.defined() ? g.detach() : torch::zeros_like(input);
}

torch::Tensor TorchModuleDecoder::jacobian(const Trace& trace) const {
  torch::AutoGradMode with_grad(true);
  auto [input, output] = graph(trace);
  const int64_t B = input.size(0), L = latent_dim_;
  auto J = torch::zeros({B, L, pixels_}, output.options().requires_grad(false));
  if (B == 0) return J;
  // g(u) = J^T u with its graph, then row k of J = d g(u)_k / du (linear in u: any u will do).
  auto u = torch::zeros_like(output).requires_grad_(true);
  auto g = torch::autograd::grad({output}, {input}, {u}, /*retain_graph=*/true,
                                 /*create_graph=*/true, /*allow_unused=*/true)[0];
  if (!g.defined() || !g.requires_grad()) return J;  // the output does not depend on the latents
  for (int64_t k = 0; k < L; ++k) {
    auto row = torch::autograd::grad({g.select(1, k).sum()}, {u}, {}, /*retain_graph=*/true,
                                     /*create_graph=*/false, /*allow_unused=*/true)[0];
    if (row.defined()) J.select(1, k).copy_(row.detach());
  }
  return J;
}

// ---- encoder ----------------------------------------------------------------------------------

Encoding encoding_of(const c10::IValue& output, int64_t batch, int64_t latent_dim,
                     const std::string& what) {
  auto check = [&](const torch::Tensor& t, const char* part) {
    require(t.dim() == 2 && t.size(0) == batch && t.size(1) == latent_dim,
            fmt::format("{} returned a {} of shape {}, expected ({}, {})", what, part,
                        fmt::join(t.sizes(), "x"), batch, latent_dim),
            "an encoder returns the mean (B, L), a (mean, logvar) tuple, or (B, 2L)");
  };
  if (output.isTuple()) {
    const auto& items = output.toTupleRef().elements();
    require(items.size() == 2 && items[0].isTensor() && items[1].isTensor(),
            fmt::format("{} returned a tuple of {} items, expected (mean, logvar)", what,
                        items.size()));
    Encoding e{items[0].toTensor(), items[1].toTensor()};
    check(e.mean, "mean");
    check(e.logvar, "log-variance");
    return e;
  }
  require(output.isTensor(), fmt::format("{} returned no tensor", what),
          "an encoder returns the mean (B, L), a (mean, logvar) tuple, or (B, 2L)");
  auto t = output.toTensor();
  if (t.dim() == 2 && t.size(0) == batch && t.size(1) == 2 * latent_dim)  // the thesis's split
    return {t.slice(1, 0, latent_dim), t.slice(1, latent_dim)};
  check(t, "mean");
  return {t, {}};
}

TorchModuleEncoder::TorchModuleEncoder(RawFunction function, int64_t latent_dim,
                                       std::vector<int64_t> input_shape)
    : function_(std::move(function)), latent_dim_(latent_dim), input_shape_(std::move(input_shape)) {}

Encoding TorchModuleEncoder::encode(const torch::Tensor& images) const {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> shape = {images.size(0)};
  shape.insert(shape.end(), input_shape_.begin(), input_shape_.end());
  return encoding_of(function_(images.reshape(shape)), images.size(0), latent_dim_,
                     "the encoder");
}

}  // namespace preimage::decoders
