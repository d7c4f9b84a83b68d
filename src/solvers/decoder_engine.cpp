#include "solvers/decoder_engine.h"

namespace preimage::solvers {

DecoderEngine::DecoderEngine(const model::Mlp& decoder) {
  torch::NoGradGuard no_grad;
  for (const auto& layer : decoder->layers()) {
    weights_.push_back(layer->weight.detach().clone().contiguous());
    biases_.push_back(layer->bias.detach().clone().contiguous());
  }
  latent_dim_ = weights_.front().size(1);
  pixels_ = weights_.back().size(0);
}

torch::Tensor DecoderEngine::forward(const torch::Tensor& y, Trace* trace) const {
  torch::NoGradGuard no_grad;
  if (trace) trace->hidden.clear();
  torch::Tensor h = y;
  const size_t hidden_layers = weights_.size() - 1;
  for (size_t i = 0; i < hidden_layers; ++i) {
    h = torch::addmm(biases_[i], h, weights_[i].t()).relu_();
    if (trace) trace->hidden.push_back(h);
  }
  return torch::addmm(biases_.back(), h, weights_.back().t());
}

torch::Tensor DecoderEngine::backward(const Trace& trace, const torch::Tensor& g_logits) const {
  torch::NoGradGuard no_grad;
  torch::Tensor g = g_logits.mm(weights_.back());  // (B, H)
  for (size_t i = trace.hidden.size(); i-- > 0;) {
    g = torch::threshold_backward(g, trace.hidden[i], 0);  // ReLU'(pre) = [h > 0]
    g = g.mm(weights_[i]);
  }
  return g;  // (B, L)
}

torch::Tensor DecoderEngine::jacobian(const Trace& trace) const {
  torch::NoGradGuard no_grad;
  const int64_t batch = trace.hidden.front().size(0), L = latent_dim_;
  if (batch == 0) return torch::zeros({0, L, pixels_}, trace.hidden.front().options());
  // Tangents of the first hidden layer: W_0[:, k] masked by its ReLU, (B, L, H).
  torch::Tensor t = weights_[0].t().unsqueeze(0).expand({batch, L, weights_[0].size(0)});
  t = t * (trace.hidden[0] > 0).unsqueeze(1);
  for (size_t i = 1; i < weights_.size(); ++i) {
    t = t.reshape({batch * L, -1}).mm(weights_[i].t()).view({batch, L, -1});
    if (i < trace.hidden.size()) t = t * (trace.hidden[i] > 0).unsqueeze(1);
  }
  return t;  // (B, L, P)
}

torch::Tensor DecoderEngine::activation_pattern(const Trace& trace) {
  std::vector<torch::Tensor> masks;
  for (const auto& h : trace.hidden) masks.push_back(h > 0);
  return torch::cat(masks, 1);
}

double DecoderEngine::forward_flops() const {
  double flops = 0;
  for (const auto& w : weights_) flops += 2.0 * static_cast<double>(w.size(0) * w.size(1));
  return flops;
}

double DecoderEngine::backward_flops() const { return forward_flops(); }

}  // namespace preimage::solvers
