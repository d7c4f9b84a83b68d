#include "solvers/lbfgs.h"

#include "solvers/iteration_state.h"

namespace preimage::solvers {
namespace {
constexpr double kArmijo = 1e-4;        // sufficient-decrease constant c1
constexpr int kMaxHalvings = 30;        // line-search trials before "no descent"
constexpr double kFirstStep = 0.1;      // length of the first step (no curvature known yet)
constexpr double kCurvatureFloor = 1e-10;  // s.y below this: pair skipped (not convex there)

// Two-loop recursion: -H g for each row, with pairs S, Y (R, m, L) and rho (R, m) (0 = empty).
torch::Tensor direction(const torch::Tensor& g, const torch::Tensor& S, const torch::Tensor& Y,
                        const torch::Tensor& rho) {
  const int64_t m = S.size(1);
  auto q = g.clone();
  std::vector<torch::Tensor> alpha(static_cast<size_t>(m));
  for (int64_t i = m - 1; i >= 0; --i) {
    alpha[static_cast<size_t>(i)] = rho.select(1, i) * row_dot(S.select(1, i), q);
    q -= alpha[static_cast<size_t>(i)].unsqueeze(1) * Y.select(1, i);
  }
  // Initial scaling from the newest pair, or a first step of length kFirstStep.
  auto s_last = S.select(1, m - 1), y_last = Y.select(1, m - 1);
  auto have = rho.select(1, m - 1) > 0;
  auto gamma = torch::where(have, row_dot(s_last, y_last) / row_dot(y_last, y_last).clamp_min(1e-30),
                            kFirstStep / g.norm(2, 1).clamp_min(1e-30));
  auto r = gamma.unsqueeze(1) * q;
  for (int64_t i = 0; i < m; ++i) {
    auto beta = rho.select(1, i) * row_dot(Y.select(1, i), r);
    r += (alpha[static_cast<size_t>(i)] - beta).unsqueeze(1) * S.select(1, i);
  }
  return -r;
}
}  // namespace

Solution Lbfgs::solve(const Objective& objective, const torch::Tensor& start,
                      const SolveHooks& hooks) const {
  torch::NoGradGuard no_grad;
  const int64_t B = start.size(0), L = start.size(1), m = std::max<int64_t>(settings_.options.lbfgs.history, 1);
  auto e = objective.evaluate(start, true);
  IterationState state(start, e.value, settings_, hooks);
  auto grad = e.grad;
  auto S = torch::zeros({B, m, L}, start.options()), Y = torch::zeros_like(S);
  auto rho = torch::zeros({B, m}, start.options());
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto g = grad.index_select(0, rows);
    auto Sr = S.index_select(0, rows), Yr = Y.index_select(0, rows), rr = rho.index_select(0, rows);
    auto d = direction(g, Sr, Yr, rr);
    // Not a descent direction (stale curvature): forget the pairs, take the gradient step.
    auto uphill = row_dot(g, d) >= 0;
    if (uphill.any().item<bool>()) {
      auto fallback = -kFirstStep * g / g.norm(2, 1, true).clamp_min(1e-30);
      d = torch::where(uphill.unsqueeze(1), fallback, d);
      rr.masked_fill_(uphill.unsqueeze(1), 0);
    }
    auto slope = row_dot(g, d);  // (R) < 0
    auto y0 = state.y().index_select(0, rows), f0 = state.f().index_select(0, rows);

    // Backtracking on the rows still searching.
    auto pending = torch::arange(rows.size(0), rows.options());  // positions within rows
    auto t = torch::ones({rows.size(0)}, start.options());
    auto y_new = y0.clone(), f_new = f0.clone(), g_new = g.clone();
    auto found = torch::zeros({rows.size(0)}, rows.options().dtype(torch::kBool));
    for (int trial = 0; trial < kMaxHalvings && pending.numel() > 0; ++trial) {
      auto tp = t.index_select(0, pending);
      auto y_try = y0.index_select(0, pending) + tp.unsqueeze(1) * d.index_select(0, pending);
      auto ev = objective.restrict_to(rows.index_select(0, pending)).evaluate(y_try, true);
      auto ok = ev.value <= f0.index_select(0, pending) + kArmijo * tp * slope.index_select(0, pending);
      auto ok_idx = ok.nonzero().view({-1});
      auto done = pending.index_select(0, ok_idx);
      y_new.index_copy_(0, done, y_try.index_select(0, ok_idx));
      f_new.index_copy_(0, done, ev.value.index_select(0, ok_idx));
      g_new.index_copy_(0, done, ev.grad.index_select(0, ok_idx));
      found.index_fill_(0, done, true);
      pending = pending.masked_select(ok.logical_not());
      t.index_copy_(0, pending, t.index_select(0, pending) * 0.5);
    }
    auto found_idx = found.nonzero().view({-1});
    auto moved = rows.index_select(0, found_idx);
    auto yn = y_new.index_select(0, found_idx), gn = g_new.index_select(0, found_idx);
    state.move(moved, yn, f_new.index_select(0, found_idx));
    // New curvature pairs (drop the oldest) where s.y > 0.
    auto s = yn - y0.index_select(0, found_idx), yv = gn - g.index_select(0, found_idx);
    auto sy = row_dot(s, yv);
    auto keep = sy > kCurvatureFloor;
    auto Sm = Sr.index_select(0, found_idx), Ym = Yr.index_select(0, found_idx);
    auto rm = rr.index_select(0, found_idx);
    auto shifted_S = torch::cat({Sm.slice(1, 1), s.unsqueeze(1)}, 1);
    auto shifted_Y = torch::cat({Ym.slice(1, 1), yv.unsqueeze(1)}, 1);
    auto shifted_r = torch::cat({rm.slice(1, 1), (1.0 / sy.clamp_min(kCurvatureFloor)).unsqueeze(1)}, 1);
    auto k3 = keep.view({-1, 1, 1});
    Sr.index_copy_(0, found_idx, torch::where(k3, shifted_S, Sm));
    Yr.index_copy_(0, found_idx, torch::where(k3, shifted_Y, Ym));
    rr.index_copy_(0, found_idx, torch::where(keep.unsqueeze(1), shifted_r, rm));
    S.index_copy_(0, rows, Sr);
    Y.index_copy_(0, rows, Yr);
    rho.index_copy_(0, rows, rr);
    grad.index_copy_(0, moved, gn);
    state.check_convergence(moved, f0.index_select(0, found_idx), gn);
    // No decrease along a quasi-Newton direction: forget the pairs and retry along the gradient
    // (at a kink of the ReLU decoder the curvature pairs mislead). No decrease along the
    // gradient either: stop.
    auto failed = found.logical_not();
    auto had_memory = (rr > 0).any(1);
    auto restart = failed.logical_and(had_memory);
    if (restart.any().item<bool>()) {
      auto restart_rows = rows.masked_select(restart);
      rho.index_fill_(0, restart_rows, 0);
    }
    state.stop(rows.masked_select(failed.logical_and(had_memory.logical_not())),
               StopReason::kNoDescent);
    state.end_iteration();
  }
  return state.finish();
}

}  // namespace preimage::solvers
