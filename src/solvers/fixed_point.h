#pragma once
// The thesis's fixed-point idea (section 4): iterate
//   u_{k+1} = h(u_k) = E(Z) - E(sigmoid(D(u_k))) + u_k,
// whose fixed points satisfy E(D(u)) = E(Z): the decoding of u encodes like the target. It is a
// descent method for nothing in particular, so the thesis asked whether it converges at all.
// Per image this solver answers with data:
//   stop reason      step-norm (|u_{k+1} - u_k| < step tolerance: converged), max-iterations or
//                    diverged (left 10x the box);
//   contraction      the contraction factor of Id - E o D estimated along the iterates, the
//                    geometric mean of |u_{k+1} - u_k| / |u_k - u_{k-1}| over the second half of
//                    the steps (< 1: contracting; NaN with fewer than two steps);
//   fixed_point_loss the objective at the last iterate (the fixed point when converged), to compare
//                    with the optimum;
//   step_norm        the last |u_{k+1} - u_k|.
// The returned latents are the best iterate seen (the safeguard every method but adafactor
// keeps); the fixed point itself is the last iterate, its loss in fixed_point_loss.
// Needs the model's encoder: Objective::set_encoder.
#include "solvers/solver.h"

namespace preimage::solvers {

class FixedPoint : public Solver {
 public:
  explicit FixedPoint(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
