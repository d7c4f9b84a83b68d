#pragma once
// One interface for every inversion method: solve(objective, start) -> Solution, batched over
// images, each image with its own state (tensors with a leading batch dimension).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "solvers/objective.h"

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

struct DecodedGrid;  // grid.cpp

// What a method may keep between the chunks of one inversion (same decoder, same loss); invert()
// shares one across its chunks, filled by Solver::prepare before they start and read-only then.
// The grid is decoded once, not once per chunk.
struct ChunkCache {
  std::shared_ptr<const DecodedGrid> grid;
};

struct SolverSettings {
  int64_t max_iterations = 150;    // iteration cap (thesis: 150 Adafactor steps)
  double learning_rate = 1e-3;     // first-order methods' step size (thesis: Keras default 1e-3)
  double gradient_tolerance = 0;   // stop when |grad| < this (0 = never)
  double relative_tolerance = 0;   // stop when |f_k - f_{k-1}| <= this * |f_k| (0 = never)
  double step_tolerance = 1e-5;    // fixed-point: stop when |u_{k+1} - u_k| < this
  double box_radius = 10.0;        // |y|_inf beyond this flags the image as left the box
  std::vector<int64_t> curve_images;  // positions (in the batch) whose loss curve is recorded
  int64_t history = 5;             // L-BFGS: curvature pairs kept per image
  int64_t grid_points = 0;         // grid: points per latent axis (0: 201 for L <= 2, 41 for L = 3)
  double grid_radius = 4.0;        // grid: the box [-r, r]^L searched (the prior's bulk: 4 sigma)
  std::string refine = "gauss-newton";  // grid: local method run from the best grid point
                                        // (the most accurate in bench-solvers), or quadratic
                                        // (a fitted quadratic only) or none
  // gauss-newton: after an accepted step into another linear region of the decoder, keep the
  // previous Jacobian until a step is rejected (see gauss_newton.cpp). Set for the grid's
  // refinement, where it saves decoder passes; from the encoder it cost iterations.
  bool keep_stale_jacobian = false;
  // Shared by the chunks of one inversion (see ChunkCache); empty: nothing kept.
  std::shared_ptr<ChunkCache> cache;
  // Called after each iteration with the number of images still running (progress bars).
  std::function<void(int64_t)> on_iteration;

  // Each method's defaults: the thesis's fixed 150 steps for adafactor; for the others an
  // iteration cap with tolerances so that every image stops by its own criterion.
  static SolverSettings defaults_for(const std::string& method);
  nlohmann::json to_json() const;
};

struct Solution {
  torch::Tensor latents;       // (B, L) the solution (the last iterate unless said otherwise)
  torch::Tensor initial_loss;  // (B) objective at the start
  torch::Tensor final_loss;    // (B) objective at `latents`, as evaluated there
  torch::Tensor iterations;    // (B) int64 iterations used
  torch::Tensor stop_reason;   // (B) int64 StopReason
  torch::Tensor left_box;      // (B) bool: an iterate left the latent box
  torch::Tensor curves;        // (K, max_iterations + 1) loss per iteration of curve_images,
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
  virtual std::string name() const = 0;
  virtual Solution solve(const Objective& objective, const torch::Tensor& start) const = 0;
  // The same from start points already decoded (objective.decode): a method whose first step
  // is to decode its start (gauss-newton) saves that pass. By default solve(objective, start.y).
  virtual Solution solve_decoded(const Objective& objective, const DecodedPoints& start) const {
    return solve(objective, start.y);
  }
  // Makes what the chunks of one inversion share (settings.cache) before they are solved,
  // possibly at once: the objective is the first chunk's. By default nothing.
  virtual void prepare(const Objective& /*objective*/) const {}
  // Warns about what the whole inversion's solution shows (gd: the images that never met the
  // gradient tolerance), once for all its chunks. By default nothing.
  virtual void review(const Solution& /*solution*/) const {}
};

// The methods `make_solver` knows.
std::vector<std::string> solver_names();
std::unique_ptr<Solver> make_solver(const std::string& name, const SolverSettings& settings);

// Helpers shared by the methods.
namespace detail {
// Calls settings.on_iteration if set.
void report_iteration(const SolverSettings& settings, int64_t running);
// (B) bool: |y|_inf > radius.
torch::Tensor outside_box(const torch::Tensor& y, double radius);
// Records the loss of the curve images at iteration `it` into curves (K, T).
void record_curve(torch::Tensor& curves, const std::vector<int64_t>& images,
                  const torch::Tensor& loss, int64_t it);
torch::Tensor make_curves(const std::vector<int64_t>& images, int64_t iterations);
}  // namespace detail

}  // namespace preimage::solvers
