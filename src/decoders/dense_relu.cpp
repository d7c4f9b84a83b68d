#include "decoders/dense_relu.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::decoders {

DenseReluDecoder::DenseReluDecoder(const model::Mlp& network) {
  torch::NoGradGuard no_grad;
  for (const auto& layer : network->layers()) {
    weights_.push_back(layer->weight.detach().clone().contiguous());
    biases_.push_back(layer->bias.detach().clone().contiguous());
  }
  latent_dim_ = weights_.front().size(1);
  pixels_ = weights_.back().size(0);
}

DenseReluDecoder::DenseReluDecoder(std::vector<torch::Tensor> weights,
                                   std::vector<torch::Tensor> biases)
    : weights_(std::move(weights)), biases_(std::move(biases)) {
  require(!weights_.empty() && weights_.size() == biases_.size(),
          "a dense decoder needs as many bias vectors as weight matrices, at least one");
  for (size_t i = 0; i < weights_.size(); ++i) {
    require(weights_[i].dim() == 2 && biases_[i].dim() == 1 &&
                biases_[i].size(0) == weights_[i].size(0),
            fmt::format("layer {}: weight of shape {}x{} and bias of {} values do not match", i,
                        weights_[i].size(0), weights_[i].dim() > 1 ? weights_[i].size(1) : 0,
                        biases_[i].numel()));
    if (i > 0)
      require(weights_[i].size(1) == weights_[i - 1].size(0),
              fmt::format("layer {} takes {} inputs, layer {} gives {}", i, weights_[i].size(1),
                          i - 1, weights_[i - 1].size(0)));
    weights_[i] = weights_[i].detach().contiguous();
    biases_[i] = biases_[i].detach().contiguous();
  }
  latent_dim_ = weights_.front().size(1);
  pixels_ = weights_.back().size(0);
}

std::string DenseReluDecoder::describe() const {
  return fmt::format("dense ReLU {}-[{}x{}]-{}", latent_dim_, weights_.size() - 1,
                     weights_.size() > 1 ? weights_.front().size(0) : 0, pixels_);
}

torch::Tensor DenseReluDecoder::forward(const torch::Tensor& y, Trace* trace) const {
  torch::NoGradGuard no_grad;
  if (trace) trace->rows = {y};
  torch::Tensor h = y;
  const size_t hidden_layers = weights_.size() - 1;
  for (size_t i = 0; i < hidden_layers; ++i) {
    h = torch::addmm(biases_[i], h, weights_[i].t()).relu_();
    if (trace) trace->rows.push_back(h);
  }
  return torch::addmm(biases_.back(), h, weights_.back().t());
}

torch::Tensor DenseReluDecoder::backward(const Trace& trace, const torch::Tensor& g_logits) const {
  torch::NoGradGuard no_grad;
  torch::Tensor g = g_logits.mm(weights_.back());  // (B, H)
  for (size_t i = weights_.size() - 1; i-- > 0;) {
    g = torch::threshold_backward(g, trace.rows[i + 1], 0);  // ReLU'(pre) = [h > 0]
    g = g.mm(weights_[i]);
  }
  return g;  // (B, L)
}

torch::Tensor DenseReluDecoder::jacobian(const Trace& trace) const {
  torch::NoGradGuard no_grad;
  const int64_t L = latent_dim_;
  const int64_t batch = trace.rows.front().size(0);
  if (batch == 0) return torch::zeros({0, L, pixels_}, trace.rows.front().options());
  // Tangents of the first layer's output: W_0[:, k], (B, L, out_0); each hidden layer's then
  // masked by its ReLU.
  torch::Tensor t = weights_[0].t().unsqueeze(0).expand({batch, L, weights_[0].size(0)});
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (i > 0) t = t.reshape({batch * L, -1}).mm(weights_[i].t()).view({batch, L, -1});
    if (i + 1 < weights_.size()) t = t * (trace.rows[i + 1] > 0).unsqueeze(1);
  }
  return t.contiguous();  // (B, L, P)
}

torch::Tensor DenseReluDecoder::activation_pattern(const Trace& trace) const {
  std::vector<torch::Tensor> masks;
  for (size_t i = 1; i < trace.rows.size(); ++i) masks.push_back(trace.rows[i] > 0);
  if (masks.empty())
    return torch::zeros({trace.rows.front().size(0), 0}, trace.rows.front().options().dtype(torch::kBool));
  return torch::cat(masks, 1);
}

double DenseReluDecoder::forward_flops() const {
  double flops = 0;
  for (const auto& w : weights_) flops += 2.0 * static_cast<double>(w.size(0) * w.size(1));
  return flops;
}

}  // namespace preimage::decoders
