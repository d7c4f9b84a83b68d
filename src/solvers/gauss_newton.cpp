#include "solvers/gauss_newton.h"

#include "solvers/iteration_state.h"

namespace preimage::solvers {
namespace {
constexpr double kInitialDamping = 1e-3;  // mu at the start (nearly a Gauss-Newton step)
constexpr double kMinDamping = 1e-9;
constexpr double kMaxDamping = 1e8;       // beyond: no step lowers the loss, stop
constexpr double kMinStep = 1e-6;         // a rejected step shorter than this: stop (float32
                                          // resolves latents of norm ~1 to about 1e-7)
constexpr double kGrowth = 10, kShrink = 3;  // damping after a rejected / an accepted step
constexpr double kDiagonalFloor = 1e-8;   // keeps diag(H) positive where a pixel saturates
}  // namespace

Solution GaussNewton::solve(const Objective& objective, const torch::Tensor& start) const {
  torch::NoGradGuard no_grad;
  auto e = objective.evaluate(start, /*need_grad=*/true, /*need_gauss_newton=*/true);
  IterationState state(start, e.value, settings_);
  auto grad = e.grad;  // (B, L) at the current points
  auto gn = e.gn;      // (B, L, L)
  auto damping = torch::full({start.size(0)}, kInitialDamping, start.options());
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto g = grad.index_select(0, rows);
    auto H = gn.index_select(0, rows);
    auto mu = damping.index_select(0, rows);
    auto diag = H.diagonal(0, 1, 2).clamp_min(kDiagonalFloor);
    auto A = H + torch::diag_embed(diag * mu.unsqueeze(1));
    auto step = torch::linalg::solve(A, -g.unsqueeze(2), /*left=*/true).squeeze(2);
    auto y_try = state.y().index_select(0, rows) + step;
    auto trial = objective.restrict_to(rows).evaluate(y_try, true, true);
    auto f_old = state.f().index_select(0, rows);
    auto better = trial.value < f_old;
    auto better_idx = better.nonzero().view({-1});
    auto accepted = rows.index_select(0, better_idx);
    state.move(accepted, y_try.index_select(0, better_idx), trial.value.index_select(0, better_idx));
    grad.index_copy_(0, accepted, trial.grad.index_select(0, better_idx));
    gn.index_copy_(0, accepted, trial.gn.index_select(0, better_idx));
    damping.index_copy_(0, rows,
                        torch::where(better, (mu / kShrink).clamp_min(kMinDamping), mu * kGrowth));
    state.check_convergence(accepted, f_old.index_select(0, better_idx),
                            trial.grad.index_select(0, better_idx));
    auto tiny_rejected = better.logical_not().logical_and(step.norm(2, 1) < kMinStep);
    auto hopeless = rows.masked_select(
        tiny_rejected.logical_or(damping.index_select(0, rows) > kMaxDamping));
    state.stop(hopeless, StopReason::kNoDescent);
    state.end_iteration();
  }
  return state.finish(objective);
}

}  // namespace preimage::solvers
