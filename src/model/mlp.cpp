#include "model/mlp.h"

#include <cmath>

namespace preimage::model {

void glorot_uniform_(torch::nn::Linear& layer) {
  torch::NoGradGuard no_grad;
  const auto fan_out = layer->weight.size(0), fan_in = layer->weight.size(1);
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  layer->weight.uniform_(-limit, limit);
  layer->bias.zero_();
}

MlpImpl::MlpImpl(const MlpShape& shape) : shape_(shape) {
  int64_t in = shape.input;
  for (int64_t i = 0; i <= shape.depth; ++i) {
    const bool last = i == shape.depth;
    auto layer = torch::nn::Linear(in, last ? shape.output : shape.width);
    glorot_uniform_(layer);
    layers_.push_back(register_module("dense" + std::to_string(i), layer));
    in = shape.width;
  }
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i + 1 < layers_.size(); ++i) x = torch::relu(layers_[i]->forward(x));
  return layers_.back()->forward(x);
}

}  // namespace preimage::model
