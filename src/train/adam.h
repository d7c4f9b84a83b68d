#pragma once
// Adam as Keras implements it (the optimizer of the TensorFlow CVAE tutorial the thesis follows):
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
// (epsilon added to sqrt(v) before bias correction, Keras's default 1e-7). One fused pass over
// each parameter: LibTorch's Adam runs five separate kernels per parameter, which took 16% of a
// training step of the thesis's VAE here.
#include <vector>

#include <torch/torch.h>

namespace preimage::train {

struct AdamSettings {
  double learning_rate = 1e-3;  // Keras default (the thesis: 1e-4)
  double beta_1 = 0.9;          // first-moment decay (Keras default)
  double beta_2 = 0.999;        // second-moment decay (Keras default)
  double epsilon = 1e-7;        // Keras default
};

class KerasAdam {
 public:
  KerasAdam(std::vector<torch::Tensor> parameters, AdamSettings settings);
  void zero_grad();
  void step();  // parameters without a gradient are skipped
  int64_t iterations() const { return t_; }

 private:
  std::vector<torch::Tensor> params_, m_, v_;
  AdamSettings settings_;
  int64_t t_ = 0;
};

}  // namespace preimage::train
