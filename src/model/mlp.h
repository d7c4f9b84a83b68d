#pragma once
// A dense ReLU network, the building block of the thesis's encoder and decoder (and of the bonus
// model): `depth` hidden Dense(width, ReLU) layers, then a linear output layer.
#include <torch/torch.h>

namespace preimage::model {

struct MlpShape {
  int64_t input = 784;    // input features
  int64_t width = 784;    // units of each hidden layer
  int64_t depth = 4;      // hidden layers
  int64_t output = 784;   // output features (linear, no activation)
};

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const MlpShape& shape);
  torch::Tensor forward(torch::Tensor x);  // (B, input) -> (B, output)

  // The layers in order: `depth` hidden ones then the output one (for the inversion engine).
  const std::vector<torch::nn::Linear>& layers() const { return layers_; }
  const MlpShape& shape() const { return shape_; }

 private:
  MlpShape shape_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

// Keras's default initialisation: Glorot-uniform weights, zero biases.
void glorot_uniform_(torch::nn::Linear& layer);

}  // namespace preimage::model
