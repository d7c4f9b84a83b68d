#pragma once
// Global search for small latent dimensions (L <= 3): decode a regular grid over the box
// [-r, r]^L once, score every (image, grid point) pair with matrix products
//   squared error: |m(z - s)|^2 = const - 2 (m z) . s + m . s^2
//   bernoulli:     sum m (softplus(l) - z l) = -(m z) . l + m . softplus(l)
// (no per-image loop), take each image's best grid point and refine it with a local method
// (`refine`, L-BFGS by default: fewer decoder passes than Gauss-Newton here). The safeguard keeps the start when that is better.
#include "solvers/solver.h"

namespace preimage::solvers {

class GridSearch : public Solver {
 public:
  explicit GridSearch(SolverSettings settings) : settings_(std::move(settings)) {}
  std::string name() const override { return "grid"; }
  Solution solve(const Objective& objective, const torch::Tensor& start) const override;

  // The best grid point of each image (B, L) and its grid loss (B), without refinement.
  std::pair<torch::Tensor, torch::Tensor> best_grid_points(const Objective& objective) const;
  // The grid itself: (n^L, L), row-major over the axes.
  static torch::Tensor make_grid(int64_t latent_dim, int64_t points, double radius);

  static constexpr int64_t kMaxLatentDim = 3;  // n^L grid points: beyond 3 the grid explodes

 private:
  SolverSettings settings_;
};

}  // namespace preimage::solvers
