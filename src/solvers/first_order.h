#pragma once
// First-order methods, per image, on the running images only:
//   gd    the thesis's plain gradient descent (section 2.3.2): y <- y - tau grad, fixed tau
//         (--learning-rate), stop when |grad| < tol; a warning counts images that never did;
//   adam  Adam with Keras's constants (beta 0.9 / 0.999, epsilon 1e-7) and per-image moments.
// Both keep the best iterate seen (the safeguard), since a fixed step can overshoot.
#include "solvers/solver.h"

namespace preimage::solvers {

class GradientDescent : public Solver {
 public:
  explicit GradientDescent(SolverSettings settings) : settings_(std::move(settings)) {}
  std::string name() const override { return "gd"; }
  Solution solve(const Objective& objective, const torch::Tensor& start) const override;

 private:
  SolverSettings settings_;
};

class Adam : public Solver {
 public:
  explicit Adam(SolverSettings settings) : settings_(std::move(settings)) {}
  std::string name() const override { return "adam"; }
  Solution solve(const Objective& objective, const torch::Tensor& start) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
