#include "solvers/iteration_state.h"

namespace preimage::solvers {

IterationState::IterationState(const torch::Tensor& start, const torch::Tensor& f0,
                               const SolverSettings& settings, const SolveHooks& hooks)
    : stop_(settings.stop),
      box_radius_(settings.box_radius),
      hooks_(hooks),
      y_(start.clone()),
      f_(f0.clone()),
      best_y_(start.clone()),
      best_f_(f0.clone()),
      initial_f_(f0.clone()) {
  const int64_t b = start.size(0);
  const auto on = start.options();  // every state on the latents' device
  running_ = torch::ones({b}, on.dtype(torch::kBool));
  stopped_now_ = torch::zeros({b}, on.dtype(torch::kBool));
  iterations_ = torch::zeros({b}, on.dtype(torch::kInt64));
  stop_reason_ =
      torch::full({b}, static_cast<int64_t>(StopReason::kMaxIterations), on.dtype(torch::kInt64));
  left_box_ = detail::outside_box(start, box_radius_);
  curves_ = detail::make_curves(hooks_.curve_images, stop_.max_iterations);
  detail::record_curve(curves_, hooks_.curve_images, f_, 0);
  running_count_ = b;
  if (stop_.max_iterations <= 0) {
    running_.fill_(false);
    running_count_ = 0;
  }
}

torch::Tensor IterationState::running_rows() const { return running_.nonzero().view({-1}); }

void IterationState::move(const torch::Tensor& rows, const torch::Tensor& y_new,
                          const torch::Tensor& f_new) {
  if (rows.numel() == 0) return;
  y_.index_copy_(0, rows, y_new);
  f_.index_copy_(0, rows, f_new);
  auto better = f_new < best_f_.index_select(0, rows);
  auto improved = rows.masked_select(better);
  best_y_.index_copy_(0, improved, y_new.index_select(0, better.nonzero().view({-1})));
  best_f_.index_copy_(0, improved, f_new.masked_select(better));
  left_box_.index_copy_(0, rows, left_box_.index_select(0, rows).logical_or(
                                     detail::outside_box(y_new, box_radius_)));
}

void IterationState::stop(const torch::Tensor& rows, StopReason reason) {
  if (rows.numel() == 0) return;
  auto still = running_.index_select(0, rows);
  auto to_stop = rows.masked_select(still);
  if (to_stop.numel() == 0) return;
  running_.index_fill_(0, to_stop, false);
  stopped_now_.index_fill_(0, to_stop, true);
  stop_reason_.index_fill_(0, to_stop, static_cast<int64_t>(reason));
  running_count_ -= to_stop.numel();
}

void IterationState::check_convergence(const torch::Tensor& rows, const torch::Tensor& f_old,
                                       const torch::Tensor& grad) {
  if (rows.numel() == 0) return;
  if (stop_.gradient_tolerance > 0) {
    auto small = grad.norm(2, 1) < stop_.gradient_tolerance;
    stop(rows.masked_select(small), StopReason::kGradientNorm);
  }
  if (stop_.relative_tolerance > 0) {
    auto f_new = f_.index_select(0, rows);
    auto tiny = (f_old - f_new).abs() <= stop_.relative_tolerance * f_new.abs();
    stop(rows.masked_select(tiny), StopReason::kRelativeChange);
  }
}

void IterationState::end_iteration() {
  ++iteration_;
  // An image that stopped during this iteration used it too (a rejected trial is work).
  iterations_.masked_fill_(running_.logical_or(stopped_now_), iteration_);
  detail::record_curve(curves_, hooks_.curve_images, f_, iteration_);
  // An image whose iterate runs far beyond the box keeps growing: stop it, flagged.
  auto far = running_.logical_and(detail::outside_box(y_, 10 * box_radius_));
  stop(far.nonzero().view({-1}), StopReason::kDiverged);
  if (iteration_ >= stop_.max_iterations) stop(running_rows(), StopReason::kMaxIterations);
  stopped_now_.fill_(false);
  detail::report_iteration(hooks_, running_count_);
}

Solution IterationState::finish() const {
  Solution s;
  s.latents = best_y_;
  s.initial_loss = initial_f_;
  s.final_loss = best_f_;  // each move's loss was computed at its point: no decoder pass
  s.iterations = iterations_;
  s.stop_reason = stop_reason_;
  s.left_box = left_box_;
  // Curves: NaN after an image stopped.
  s.curves = curves_;
  for (size_t k = 0; k < hooks_.curve_images.size(); ++k) {
    const int64_t used = iterations_[hooks_.curve_images[k]].item<int64_t>();
    if (used + 1 < s.curves.size(1))
      s.curves[static_cast<int64_t>(k)].slice(0, used + 1).fill_(std::nanf(""));
  }
  return s;
}

}  // namespace preimage::solvers
