#pragma once
// Levenberg-Marquardt on the residual z - sigmoid(D(y)) (or the Bernoulli likelihood's
// generalized Gauss-Newton matrix). The latent is tiny (L = 2), so the Jacobian (L x P) costs L
// forward-mode passes and the L x L normal equations are solved for every image at once:
//   (H + mu_b diag(H)) step = -g,  H = J^T W J,
// with per-image damping mu_b: divided by 3 after a step that lowers the loss, multiplied by 10
// (to at least 1) after one that does not. A trial point costs one forward pass; the Jacobian
// (L forward-mode passes, which also give the gradient) is computed only where the step is
// accepted. An image stops when its gradient or its relative decrease is below tolerance, when
// the decrease its model predicts for the next step is below the relative tolerance, or when even
// a heavily damped step (mu > 1e8, a step along -g of vanishing length) no longer lowers the
// loss: a minimum, or a kink of the ReLU decoder.
#include "solvers/solver.h"

namespace preimage::solvers {

class GaussNewton : public Solver {
 public:
  explicit GaussNewton(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;
  Solution solve_decoded(const Objective& objective, const DecodedPoints& start,
                         const SolveHooks& hooks = {}) const override;
  // With a guess of the Jacobian (B, L, P) of the rows `guessed` (B, bool), such as the grid's
  // secant: their first Gauss-Newton matrix comes from the guess, their gradient from a backward
  // pass (one decoder pass instead of the Jacobian's two), and the guess is then refreshed like
  // a stale Jacobian (at the first accepted step unless keep_stale_jacobian).
  Solution solve_guessed(const Objective& objective, const DecodedPoints& start,
                         const torch::Tensor& jacobian_guess, const torch::Tensor& guessed,
                         const SolveHooks& hooks = {}) const override;

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
