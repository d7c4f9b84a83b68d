#pragma once
// Keras 3's Adafactor, exactly as the thesis ran it (section 2.3.3): default arguments,
// learning rate 1e-3, a fixed number of steps, no early stop. Per image (variable y of shape
// (1, L); its factored second moment reduces to the plain per-coordinate one):
//   t     = step (1-based),  rho_t = min(lr, 1/sqrt(t))          (relative_step)
//   alpha = max(epsilon_2, rms(y)) * rho_t
//   beta  = 1 - t^beta_2_decay
//   v     = beta v + (1 - beta) (g^2 + epsilon_1)
//   u     = g / sqrt(v),  u <- u / max(1, rms(u) / clip_threshold)
//   y    <- y - alpha u
#include "solvers/solver.h"

namespace preimage::solvers {

struct AdafactorParams {
  double beta_2_decay = -0.8;   // decay rate of beta_2 (Keras default)
  double epsilon_1 = 1e-30;     // offset of the squared gradient (Keras default)
  double epsilon_2 = 1e-3;      // floor of the relative step scale (Keras default)
  double clip_threshold = 1.0;  // update clipping threshold (Keras default)
  bool relative_step = true;    // learning rate capped at 1/sqrt(t) (Keras default)
};

class Adafactor : public Solver {
 public:
  explicit Adafactor(SolverSettings settings, AdafactorParams params = {})
      : settings_(std::move(settings)), params_(params) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;

  // One update of every image in place; `v` (B, L) is the second-moment state; `t` is 1-based.
  void step(torch::Tensor& y, torch::Tensor& v, const torch::Tensor& grad, int64_t t) const;

 private:
  SolverSettings settings_;
  AdafactorParams params_;
};

}  // namespace preimage::solvers
