#include "solvers/first_order.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "solvers/iteration_state.h"

namespace preimage::solvers {
namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-7;  // Keras's Adam constants

// The loop both methods share: evaluate the running images, let `update` propose new points.
template <typename Update>
Solution first_order_loop(const Objective& objective, const torch::Tensor& start,
                          const SolverSettings& settings, Update update) {
  torch::NoGradGuard no_grad;
  auto e = objective.evaluate(start, true);
  IterationState state(start, e.value, settings);
  auto grad = e.grad;
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto y_new = update(rows, state.y().index_select(0, rows), grad.index_select(0, rows),
                        state.iteration() + 1);
    auto ev = objective.restrict_to(rows).evaluate(y_new, true);
    auto f_old = state.f().index_select(0, rows);
    state.move(rows, y_new, ev.value);
    grad.index_copy_(0, rows, ev.grad);
    state.check_convergence(rows, f_old, ev.grad);
    state.end_iteration();
  }
  return state.finish(objective);
}

}  // namespace

Solution GradientDescent::solve(const Objective& objective, const torch::Tensor& start) const {
  const double tau = settings_.learning_rate;
  auto s = first_order_loop(objective, start, settings_,
                            [tau](const torch::Tensor&, const torch::Tensor& y,
                                  const torch::Tensor& g, int64_t) { return y - tau * g; });
  const auto capped =
      (s.stop_reason == static_cast<int64_t>(StopReason::kMaxIterations)).sum().item<int64_t>();
  if (capped > 0 && settings_.gradient_tolerance > 0)
    spdlog::warn("gd: {} of {} images did not reach |grad| < {} in {} steps of tau = {}", capped,
                 start.size(0), settings_.gradient_tolerance, settings_.max_iterations, tau);
  return s;
}

Solution Adam::solve(const Objective& objective, const torch::Tensor& start) const {
  auto m = torch::zeros_like(start), v = torch::zeros_like(start);
  const double lr = settings_.learning_rate;
  return first_order_loop(
      objective, start, settings_,
      [&](const torch::Tensor& rows, const torch::Tensor& y, const torch::Tensor& g, int64_t t) {
        auto mr = m.index_select(0, rows) * kBeta1 + g * (1 - kBeta1);
        auto vr = v.index_select(0, rows) * kBeta2 + g.square() * (1 - kBeta2);
        m.index_copy_(0, rows, mr);
        v.index_copy_(0, rows, vr);
        const double ti = static_cast<double>(t);
        const double alpha = lr * std::sqrt(1 - std::pow(kBeta2, ti)) / (1 - std::pow(kBeta1, ti));
        return y - alpha * mr / (vr.sqrt() + kEpsilon);
      });
}

}  // namespace preimage::solvers
