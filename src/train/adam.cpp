#include "train/adam.h"

#include <cmath>
#include <thread>

namespace preimage::train {

KerasAdam::KerasAdam(std::vector<torch::Tensor> parameters, AdamSettings settings)
    : params_(std::move(parameters)), settings_(settings) {
  for (const auto& p : params_) {
    TORCH_CHECK(p.scalar_type() == torch::kFloat32 && p.is_contiguous(),
                "KerasAdam needs contiguous float32 parameters");
    m_.push_back(torch::zeros_like(p));
    v_.push_back(torch::zeros_like(p));
  }
}

void KerasAdam::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

namespace {
constexpr int64_t kParallelThreshold = 1 << 16;  // parameters worth a second thread

// The fused update of one parameter. Without errno semantics for sqrt the compiler vectorizes
// the loop (sqrt and division in SIMD registers).
__attribute__((optimize("no-math-errno"))) void adam_update(float* p, const float* g, float* m,
                                                             float* v, int64_t n, float alpha,
                                                             float b1, float c1, float b2,
                                                             float c2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= alpha * mi / (std::sqrt(vi) + eps);
  }
}
}  // namespace

void KerasAdam::step() {
  torch::NoGradGuard no_grad;
  ++t_;
  const double t = static_cast<double>(t_);
  const auto& s = settings_;
  const float alpha = static_cast<float>(s.learning_rate * std::sqrt(1 - std::pow(s.beta_2, t)) /
                                         (1 - std::pow(s.beta_1, t)));
  const float b1 = static_cast<float>(s.beta_1), b2 = static_cast<float>(s.beta_2);
  const float c1 = static_cast<float>(1 - s.beta_1), c2 = static_cast<float>(1 - s.beta_2);
  const float eps = static_cast<float>(s.epsilon);
  // The update is memory-bound; the BLAS's cores idle meanwhile, so split each parameter in
  // two halves, one on a helper thread. Elementwise, so the result does not depend on the split.
  for (size_t k = 0; k < params_.size(); ++k) {
    auto& p = params_[k];
    if (!p.grad().defined()) continue;
    auto g = p.grad().contiguous();
    float *pp = p.data_ptr<float>(), *mp = m_[k].data_ptr<float>(), *vp = v_[k].data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    const int64_t n = p.numel(), half = n / 2;
    if (n < kParallelThreshold) {
      adam_update(pp, gp, mp, vp, n, alpha, b1, c1, b2, c2, eps);
      continue;
    }
    std::thread helper(adam_update, pp + half, gp + half, mp + half, vp + half, n - half, alpha,
                       b1, c1, b2, c2, eps);
    adam_update(pp, gp, mp, vp, half, alpha, b1, c1, b2, c2, eps);
    helper.join();
  }
}

}  // namespace preimage::train
