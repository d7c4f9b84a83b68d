#pragma once
// Per-image bookkeeping shared by the iterative methods: the current point and loss, the best
// point seen (the safeguard: no method returns a worse loss than its start), iterations used,
// why each image stopped, which images still run, box flags and loss curves. Methods work on the
// running images only (`running_rows`), so converged images cost nothing.
#include <torch/torch.h>

#include "solvers/solver.h"

namespace preimage::solvers {

// The dot product of each row of `a` with the same row of `b`: (B, L) x (B, L) -> (B).
inline torch::Tensor row_dot(const torch::Tensor& a, const torch::Tensor& b) { return (a * b).sum(-1); }

class IterationState {
 public:
  // `f0` is the objective at `start` (B).
  IterationState(const torch::Tensor& start, const torch::Tensor& f0,
                 const SolverSettings& settings, const SolveHooks& hooks);

  torch::Tensor running_rows() const;  // (R) int64 positions of the images still running
  bool any_running() const { return running_count_ > 0; }
  int64_t iteration() const { return iteration_; }

  const torch::Tensor& y() const { return y_; }  // (B, L) current points
  const torch::Tensor& f() const { return f_; }  // (B) current losses

  // Moves `rows` to `y_new` with losses `f_new`, the objective at `y_new` (the method decided
  // they are acceptable; `finish` reports them).
  void move(const torch::Tensor& rows, const torch::Tensor& y_new, const torch::Tensor& f_new);
  // Stops `rows` with `reason` (no-op for rows already stopped).
  void stop(const torch::Tensor& rows, StopReason reason);
  // Applies the common stopping rules to `rows`, which just moved from `f_old`:
  // gradient norm below tolerance, relative change below tolerance.
  void check_convergence(const torch::Tensor& rows, const torch::Tensor& f_old,
                         const torch::Tensor& grad);
  // Ends an iteration: counts it for the running images, records curves, flags box exits,
  // stops everything at the iteration cap, reports progress.
  void end_iteration();

  // The best point of each image with its loss (as `move` was given it: no decoder pass).
  Solution finish() const;

 private:
  StopRule stop_;
  double box_radius_;
  SolveHooks hooks_;
  torch::Tensor y_, f_, best_y_, best_f_, initial_f_;
  torch::Tensor running_;      // (B) bool
  torch::Tensor stopped_now_;  // (B) bool: stopped during the current iteration
  torch::Tensor iterations_;   // (B) int64
  torch::Tensor stop_reason_;  // (B) int64
  torch::Tensor left_box_;     // (B) bool
  torch::Tensor curves_;
  int64_t iteration_ = 0, running_count_ = 0;
};

}  // namespace preimage::solvers
