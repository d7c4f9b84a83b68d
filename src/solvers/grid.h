#pragma once
// Global search for small latent dimensions (L <= 3). The grid over the box [-r, r]^L (n points
// per axis) is decoded once (decoded_grid.h); every (image, grid point) pair is scored with
// matrix products, coarse to fine so that the cost stays a few GEMMs:
//   1. every image against the coarse sub-grid (every `kCoarseStride`-th point per axis), one GEMM;
//   2. each image's `kCandidates` best coarse points, refined on the fine points of the window
//      around them; images sorted by their best coarse point share windows, so a chunk of them is
//      scored against the union of its windows with one more GEMM;
//   3. a quadratic fitted to the 3^L fine scores around the best point, its minimiser evaluated
//      with one decoder pass (kept when better): sub-grid accuracy at the cost of one forward;
//   4. the secant Jacobian of the decoder's logits between the best point's neighbours, a first
//      Jacobian for a refinement that can use one (Gauss-Newton: no Jacobian's two passes).
// Then the refinement (a local method: gauss-newton, lbfgs, ...) runs from there, or from the
// caller's start where that is better (a narrow basin between grid points; diagnostic
// refined_from_start), or "quadratic" stops after step 3, "none" after step 2. The safeguard
// keeps the start when that is better, and `far_from_start` flags solutions more than 0.5 from
// the start (another basin than the start's: the thesis's image 2168, a 7 decoded as a 1).
#include <mutex>

#include "solvers/decoded_grid.h"
#include "solvers/solver.h"

namespace preimage::solvers {

class GridSearch : public Solver {
 public:
  explicit GridSearch(SolverSettings settings) : settings_(std::move(settings)) {}
  Solution solve(const Objective& objective, const torch::Tensor& start,
                 const SolveHooks& hooks = {}) const override;
  // Decodes the grid once for every chunk of an inversion.
  void prepare(const Objective& objective) override;

  struct Search {
    torch::Tensor points;     // (B, L) best fine grid point of each image
    torch::Tensor loss;       // (B) its objective value (from the scores: no extra decoder pass)
    torch::Tensor quadratic;  // (B, L) minimiser of the local quadratic fit (= points where none)
    torch::Tensor secant_jacobian;  // (B, L, P) d logits / d y by differences of the decoded
                                    // grid around `points`, where asked for
  };
  // Steps 1-3 above without evaluating the quadratic minimiser; with `secant_jacobian` also the
  // secants.
  Search search(const Objective& objective, bool secant_jacobian = false) const;
  // The best grid point of each image (B, L) and its loss (B): steps 1-2.
  std::pair<torch::Tensor, torch::Tensor> best_grid_points(const Objective& objective) const;
  // Points per axis when the grid's `points` option is 0 (automatic): 201 for L <= 2 (spacing
  // 0.04 over [-4, 4]), 41 for L = 3 (69k points).
  static int64_t points_per_axis(const GridOptions& options, int64_t latent_dim);

  static constexpr int64_t kMaxLatentDim = 3;  // n^L grid points: beyond 3 the grid explodes
  static constexpr int64_t kCoarseStride = 4;  // coarse sub-grid: every 4th point per axis
  static constexpr int64_t kCandidates = 2;    // coarse points refined per image
  // A solution farther than this from its start is flagged far_from_start (another basin).
  static constexpr double kFarFromStart = 0.5;

 private:
  // The decoded grid: the prepared one when it was made for this objective, else decoded now
  // (and kept). Throws for a latent dimension or a grid too large.
  std::shared_ptr<const DecodedGrid> decoded_grid(const Objective& objective) const;

  SolverSettings settings_;
  mutable std::mutex mutex_;                          // guards grid_
  mutable std::shared_ptr<const DecodedGrid> grid_;   // the last grid decoded
};

}  // namespace preimage::solvers
