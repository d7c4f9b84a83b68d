#include "solvers/adafactor.h"

#include <cmath>

namespace preimage::solvers {
namespace {
torch::Tensor rms(const torch::Tensor& x) { return x.square().mean(1, /*keepdim=*/true).sqrt(); }
}  // namespace

void Adafactor::step(torch::Tensor& y, torch::Tensor& v, const torch::Tensor& grad,
                     int64_t t) const {
  const double local_step = static_cast<double>(t);
  double lr = settings_.options.step_size.learning_rate;
  if (params_.relative_step) lr = std::min(lr, 1.0 / std::sqrt(local_step));
  const double rho = std::min(lr, 1.0 / std::sqrt(local_step));
  const double beta = 1.0 - std::pow(local_step, params_.beta_2_decay);
  auto alpha = rms(y).clamp_min(params_.epsilon_2) * rho;  // (B, 1)
  v.mul_(beta).add_(grad.square().add_(params_.epsilon_1), 1.0 - beta);
  auto u = grad / v.sqrt();
  u.div_((rms(u) / params_.clip_threshold).clamp_min(1.0));
  y.sub_(alpha * u);
}

Solution Adafactor::solve(const Objective& objective, const torch::Tensor& start,
                          const SolveHooks& hooks) const {
  torch::NoGradGuard no_grad;
  auto y = start.clone();
  auto v = torch::zeros_like(y);
  const int64_t T = settings_.stop.max_iterations;
  Solution s;
  const auto on = y.options();  // every state on the latents' device
  s.left_box = torch::zeros({y.size(0)}, on.dtype(torch::kBool));
  s.curves = detail::make_curves(hooks.curve_images, T);
  for (int64_t t = 1; t <= T; ++t) {
    auto e = objective.evaluate(y, /*need_grad=*/true);
    if (t == 1) s.initial_loss = e.value;
    detail::record_curve(s.curves, hooks.curve_images, e.value, t - 1);
    step(y, v, e.grad, t);
    s.left_box.logical_or_(detail::outside_box(y, settings_.box_radius));
    detail::report_iteration(hooks, t < T ? y.size(0) : 0);
  }
  s.final_loss = objective.value(y);  // the true last loss, after the last update
  if (T == 0) s.initial_loss = s.final_loss;
  detail::record_curve(s.curves, hooks.curve_images, s.final_loss, T);
  s.latents = y;
  s.iterations = torch::full({y.size(0)}, T, on.dtype(torch::kInt64));
  s.stop_reason =
      torch::full({y.size(0)}, static_cast<int64_t>(StopReason::kMaxIterations), on.dtype(torch::kInt64));
  return s;
}

}  // namespace preimage::solvers
