#pragma once
// L-BFGS, the quasi-Newton method the thesis proposes (section 4), per image: a two-loop
// recursion over the image's last `history` curvature pairs (tensors (B, m, L)), then an Armijo
// backtracking line search run for all images at once. An image stops when its gradient or its
// relative decrease is below tolerance, or when no step along the search direction (halved down
// to 2^-30) lowers the loss: the ReLU decoder has kinks where the gradient never vanishes. When
// that happens along a quasi-Newton direction, the pairs are forgotten and the gradient's
// direction is tried first; the image stops only when that fails too.
#include "solvers/solver.h"

namespace preimage::solvers {

class Lbfgs : public Solver {
 public:
  explicit Lbfgs(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
