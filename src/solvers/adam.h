#pragma once
// Adam with Keras's constants (beta 0.9 / 0.999, epsilon 1e-7) and per-image moments, on the
// running images only. Keeps the best iterate seen (the safeguard).
#include "solvers/solver.h"

namespace preimage::solvers {

class Adam : public Solver {
 public:
  explicit Adam(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
