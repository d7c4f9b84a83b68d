#pragma once
// The thesis's plain gradient descent (section 2.3.2), per image: y <- y - tau grad with a fixed
// step tau (--learning-rate), stop when |grad| < tol; a warning counts the images that never did.
// Keeps the best iterate seen (the safeguard), since a fixed step can overshoot.
#include "solvers/solver.h"

namespace preimage::solvers {

class GradientDescent : public Solver {
 public:
  explicit GradientDescent(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;
  void review(const Solution& solution) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
