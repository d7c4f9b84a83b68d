#pragma once
// The loop the fixed-step first-order methods (gd, adam) share: evaluate the running images only,
// let the method propose new points, keep the best iterate (a fixed step can overshoot).
#include "solvers/iteration_state.h"

namespace preimage::solvers::detail {

// `update(rows, y, grad, t)` returns the new points of `rows` (R, L); t is 1-based.
template <typename Update>
Solution first_order_loop(const Objective& objective, const torch::Tensor& start,
                          const SolverSettings& settings, const SolveHooks& hooks, Update update) {
  torch::NoGradGuard no_grad;
  auto e = objective.evaluate(start, /*need_grad=*/true);
  IterationState state(start, e.value, settings, hooks);
  auto grad = e.grad;  // (B, L)
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto y_new = update(rows, state.y().index_select(0, rows), grad.index_select(0, rows),
                        state.iteration() + 1);
    auto ev = objective.restrict_to(rows).evaluate(y_new, /*need_grad=*/true);
    auto f_old = state.f().index_select(0, rows);
    state.move(rows, y_new, ev.value);
    grad.index_copy_(0, rows, ev.grad);
    state.check_convergence(rows, f_old, ev.grad);
    state.end_iteration();
  }
  return state.finish();
}

}  // namespace preimage::solvers::detail
