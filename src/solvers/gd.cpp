#include "solvers/gd.h"

#include <spdlog/spdlog.h>

#include "solvers/first_order_loop.h"

namespace preimage::solvers {

Solution GradientDescent::solve(const Objective& objective, const torch::Tensor& start,
                                const SolveHooks& hooks) const {
  const double tau = settings_.options.step_size.learning_rate;
  return detail::first_order_loop(objective, start, settings_, hooks,
                                  [tau](const torch::Tensor&, const torch::Tensor& y,
                                        const torch::Tensor& g, int64_t) { return y - tau * g; });
}

void GradientDescent::review(const Solution& solution) const {
  const auto capped =
      (solution.stop_reason == static_cast<int64_t>(StopReason::kMaxIterations)).sum().item<int64_t>();
  if (capped > 0 && settings_.stop.gradient_tolerance > 0)
    spdlog::warn("gd: {} of {} images did not reach |grad| < {} in {} steps of tau = {}", capped,
                 solution.stop_reason.size(0), settings_.stop.gradient_tolerance,
                 settings_.stop.max_iterations, settings_.options.step_size.learning_rate);
}

}  // namespace preimage::solvers
