#pragma once
// One interface for every inversion method: solve(objective, start) -> Solution, batched over
// images, each image with its own state (tensors with a leading batch dimension). The methods
// are listed, with their defaults and options, in registry.h.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "solvers/objective.h"
#include "solvers/settings.h"

namespace preimage::solvers {

// Why an image stopped (stored per image as int64).
enum class StopReason : int64_t {
  kMaxIterations = 0,  // used the whole budget (the thesis's fixed 150 steps end this way)
  kGradientNorm = 1,   // |grad| < gradient tolerance
  kRelativeChange = 2, // relative loss change < tolerance
  kNoDescent = 3,      // no step along the search direction decreases the loss (a kink/minimum)
  kDiverged = 4,       // the iterate left the latent box or kept growing
  kGlobalSearch = 5,   // chosen by a search with no iterations (grid without refinement)
  kStepNorm = 6,       // fixed-point: |u_{k+1} - u_k| < tolerance
};
// Stopped by its own criterion (not the cap, not diverged).
bool is_converged(StopReason reason);
std::string stop_reason_name(StopReason reason);

// What one call watches, besides the method's settings.
struct SolveHooks {
  std::vector<int64_t> curve_images;  // positions (in the batch) whose loss curve is recorded
  // Called after each iteration with the number of images still running (progress bars).
  std::function<void(int64_t)> on_iteration;
};

struct Solution {
  torch::Tensor latents;       // (B, L) the solution (the last iterate unless said otherwise)
  torch::Tensor initial_loss;  // (B) objective at the start
  torch::Tensor final_loss;    // (B) objective at `latents`, as evaluated there
  torch::Tensor iterations;    // (B) int64 iterations used
  torch::Tensor stop_reason;   // (B) int64 StopReason
  torch::Tensor left_box;      // (B) bool: an iterate left the latent box
  torch::Tensor curves;        // (K, max_iterations + 1) loss per iteration of the curve images,
                               // NaN after an image stopped; undefined when none asked
  // Per-image diagnostics a method adds, (B) each, stored as losses/<method>_<name>.npy:
  // grid: far_from_start (and refined_from_start with a local refinement); fixed-point:
  // contraction, fixed_point_loss, step_norm.
  std::map<std::string, torch::Tensor> diagnostics;

  // (B) bool: stopped by the method's own criterion.
  torch::Tensor converged() const;

  // Concatenates chunk solutions in order (curves are kept from chunks that have them).
  static Solution concat(const std::vector<Solution>& parts);
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual Solution solve(const Objective& objective, const torch::Tensor& start,
                         const SolveHooks& hooks = {}) const = 0;
  // The same from start points already decoded (objective.decode): a method whose first step
  // is to decode its start (gauss-newton) saves that pass. By default solve(objective, start.y).
  virtual Solution solve_decoded(const Objective& objective, const DecodedPoints& start,
                                 const SolveHooks& hooks = {}) const {
    return solve(objective, start.y, hooks);
  }
  // The same with a guess of the decoder's Jacobian (B, L, P) at the start of the rows `guessed`
  // (B, bool), such as the grid's secant. A method that cannot use one ignores it (the default).
  virtual Solution solve_guessed(const Objective& objective, const DecodedPoints& start,
                                 const torch::Tensor& /*jacobian_guess*/,
                                 const torch::Tensor& /*guessed*/,
                                 const SolveHooks& hooks = {}) const {
    return solve_decoded(objective, start, hooks);
  }
  // Makes what every chunk of one inversion shares (the grid's decoding) from the first chunk's
  // objective, before the chunks are solved (then possibly at once, from several threads). By
  // default nothing.
  virtual void prepare(const Objective& /*objective*/) {}
  // Warns about what the whole inversion's solution shows (gd: the images that never met the
  // gradient tolerance), once for all its chunks. By default nothing.
  virtual void review(const Solution& /*solution*/) const {}
};

// Helpers shared by the methods.
namespace detail {
// Calls hooks.on_iteration if set.
void report_iteration(const SolveHooks& hooks, int64_t running);
// (B) bool: |y|_inf > radius.
torch::Tensor outside_box(const torch::Tensor& y, double radius);
// Records the loss of the curve images at iteration `it` into curves (K, T).
void record_curve(torch::Tensor& curves, const std::vector<int64_t>& images,
                  const torch::Tensor& loss, int64_t it);
torch::Tensor make_curves(const std::vector<int64_t>& images, int64_t iterations);
}  // namespace detail

}  // namespace preimage::solvers
