#pragma once
// Adam as Keras implements it (the optimizer of the TensorFlow CVAE tutorial the thesis follows):
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)
// (epsilon added to sqrt(v) before bias correction, Keras's default 1e-7). One fused pass over
// each parameter: LibTorch's Adam runs five separate kernels per parameter, which took 16% of a
// training step of the thesis's VAE here. The pass is memory-bound (7 float streams), and a
// helper thread kept for the optimizer's life shares its chunks (docs/PERFORMANCE.md,
// "Training").
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace preimage::train {

struct AdamSettings {
  double learning_rate = 1e-3;  // Keras default (the thesis: 1e-4)
  double beta_1 = 0.9;          // first-moment decay (Keras default)
  double beta_2 = 0.999;        // second-moment decay (Keras default)
  double epsilon = 1e-7;        // Keras default
};

// The float32 constants of one step t: alpha = lr sqrt(1 - b2^t) / (1 - b1^t), c = 1 - b.
struct AdamScalars {
  float alpha = 0, b1 = 0, c1 = 0, b2 = 0, c2 = 0, eps = 0;
};

class KerasAdam {
 public:
  KerasAdam(std::vector<torch::Tensor> parameters, AdamSettings settings);
  ~KerasAdam();
  KerasAdam(const KerasAdam&) = delete;
  KerasAdam& operator=(const KerasAdam&) = delete;

  // Drops the gradients (the next backward pass stores its own instead of adding to zeros).
  void zero_grad();
  void step();  // parameters without a gradient are skipped
  int64_t iterations() const { return t_; }

  // For a training step that updates each parameter as soon as its gradient is known
  // (train/train_step.h): next_scalars() counts the step (once per step, before the first
  // update) and update(k, grad, scalars) updates parameter k, in the order given to the
  // constructor, with `grad` (contiguous float32, the parameter's element count), on the
  // calling thread and the helper. step() is the same as next_scalars() then update() for
  // every parameter that has a gradient.
  AdamScalars next_scalars();
  void update(size_t k, const torch::Tensor& grad, const AdamScalars& scalars);
  // The index of `parameter` (the same tensor, not an equal one) among the constructor's.
  size_t index_of(const torch::Tensor& parameter) const;

 private:
  std::vector<torch::Tensor> params_, m_, v_;
  AdamSettings settings_;
  int64_t t_ = 0;
  struct Job;
  struct Helper;
  std::unique_ptr<Helper> helper_;  // started at the first update large enough to share
  void add_chunks(Job& job, size_t k, const float* grad);  // parameter k's elements
  void run(const std::shared_ptr<Job>& job);               // with the helper when large enough

 public:
  // For the learning-rate schedule and for resuming (train/train_state.h): the step size, and the
  // moments (one m and one v per parameter, in the parameters' order) with the step count.
  double learning_rate() const { return settings_.learning_rate; }
  void set_learning_rate(double learning_rate) { settings_.learning_rate = learning_rate; }
  const std::vector<torch::Tensor>& first_moments() const { return m_; }
  const std::vector<torch::Tensor>& second_moments() const { return v_; }
  // Copies `m` and `v` (shapes as the parameters', else TORCH_CHECK fails) and sets the step count.
  void load_state(const std::vector<torch::Tensor>& m, const std::vector<torch::Tensor>& v,
                  int64_t iterations) {
    TORCH_CHECK(m.size() == m_.size() && v.size() == v_.size() && iterations >= 0,
                "KerasAdam::load_state: ", m.size(), " and ", v.size(), " moments for ",
                m_.size(), " parameters, step ", iterations);
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < m_.size(); ++k) {
      TORCH_CHECK(m[k].sizes() == m_[k].sizes() && v[k].sizes() == v_[k].sizes(),
                  "KerasAdam::load_state: moment ", k, " has shape ", m[k].sizes(), " / ",
                  v[k].sizes(), ", the parameter ", m_[k].sizes());
      m_[k].copy_(m[k]);
      v_[k].copy_(v[k]);
    }
    t_ = iterations;
  }
};

}  // namespace preimage::train
