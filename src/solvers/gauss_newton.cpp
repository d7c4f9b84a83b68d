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
// A rejected step is retried with at least this damping: below 1 a tenfold damping barely
// shortens the step (mu scales diag(H)), and each retry costs a decoder pass. At 1 the diagonal
// is doubled, about halving the step (a quarter fewer trials on MNIST, the same results).
constexpr double kRetryDamping = 1;
constexpr double kDiagonalFloor = 1e-8;   // keeps diag(H) positive where a pixel saturates
// A stale Jacobian (or a caller's guess) serves at most this many accepted steps: it is
// refreshed after a rejected step, or after this many, so that a poor one cannot slow the
// convergence for long (kept until a rejection, a wrong guess left a test at the iteration cap).
// 3 took the fewest decoder passes on MNIST (docs/PERFORMANCE.md).
constexpr int64_t kMaxStaleSteps = 3;

// The Jacobian at points an accepted step moved to, and whether it is stale (that of the
// previous point). Where the ReLU activation pattern did not change, the previous Jacobian is
// exact (the decoder is linear there), unless it was a caller's guess (`guessed`). Where it
// changed, or for a guess, it is recomputed by forward mode (two decoder passes for L = 2) only
// if `refresh`: otherwise the previous one serves for the Gauss-Newton matrix of the next step,
// the gradient coming from a backward pass (one pass).
// A decoder that gives no activation pattern (`pattern` undefined) has its Jacobian recomputed
// at every accepted step. The decoder's regions are tiny but neighbouring regions differ in few
// units, so near a minimum the previous Jacobian still models the step well: fewer decoder
// passes from the grid's points; from the encoder, with longer steps, it cost iterations, so it
// is off by default (docs/PERFORMANCE.md).
struct MovedJacobian {
  torch::Tensor jacobian;  // (B, L, P)
  torch::Tensor stale;     // (B) bool
};
MovedJacobian jacobian_at(const decoders::Decoder& decoder, const DecodedPoints& points,
                          const torch::Tensor& pattern, const torch::Tensor& previous_pattern,
                          torch::Tensor previous_jacobian, const torch::Tensor& guessed,
                          const torch::Tensor& refresh) {
  auto changed = pattern.defined()
                     ? pattern.eq(previous_pattern).all(1).logical_not().logical_or(guessed)
                     : torch::ones_like(guessed);
  auto recompute = changed.logical_and(refresh).nonzero().view({-1});
  MovedJacobian out{std::move(previous_jacobian),  // a copy made for this call: filled in place
                    changed.logical_and(refresh.logical_not())};
  if (recompute.numel() > 0)
    out.jacobian.index_copy_(0, recompute, decoder.jacobian(points.select(recompute).trace));
  return out;
}
}  // namespace

Solution GaussNewton::solve(const Objective& objective, const torch::Tensor& start,
                            const SolveHooks& hooks) const {
  return solve_decoded(objective, objective.decode(start), hooks);
}

Solution GaussNewton::solve_decoded(const Objective& objective, const DecodedPoints& start_points,
                                    const SolveHooks& hooks) const {
  return solve_guessed(objective, start_points, {}, {}, hooks);
}

Solution GaussNewton::solve_guessed(const Objective& objective, const DecodedPoints& start_points,
                                    const torch::Tensor& jacobian_guess,
                                    const torch::Tensor& guessed, const SolveHooks& hooks) const {
  const auto& decoder = objective.decoder();
  const double relative_tolerance = settings_.stop.relative_tolerance;
  torch::NoGradGuard no_grad;
  const auto& start = start_points.y;
  // (B) bool: the row of `jacobian` is still the caller's guess.
  const auto on = start.options();  // every state on the latents' device
  auto guess = torch::zeros({start.size(0)}, on.dtype(torch::kBool));
  // (B) accepted steps since the row's Jacobian was computed (0 while it is exact).
  auto stale_steps = torch::zeros({start.size(0)}, on.dtype(torch::kInt64));
  Evaluation e;
  if (jacobian_guess.defined()) {
    guess = guessed.clone();
    auto known = guessed.logical_not().nonzero().view({-1});
    auto J = jacobian_guess.clone();
    if (known.numel() > 0)
      J.index_copy_(0, known, decoder.jacobian(start_points.select(known).trace));
    e = objective.evaluate(start_points, true, true, J, guessed);
  } else {
    e = objective.evaluate(start_points, /*need_grad=*/true, /*need_gauss_newton=*/true);
  }
  IterationState state(start, e.value, settings_, hooks);
  auto grad = e.grad;  // (B, L) at the current points
  auto gn = e.gn;      // (B, L, L)
  auto jacobian = e.jacobian;  // (B, L, P)
  auto pattern = decoder.activation_pattern(start_points.trace);  // (B, units) or undefined
  auto damping = torch::full({start.size(0)}, kInitialDamping, start.options());
  auto last_rejected = torch::zeros({start.size(0)}, on.dtype(torch::kBool));
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto g = grad.index_select(0, rows);
    auto H = gn.index_select(0, rows);
    auto mu = damping.index_select(0, rows);
    auto f_old = state.f().index_select(0, rows);
    auto diag = H.diagonal(0, 1, 2).clamp_min(kDiagonalFloor);
    auto A = H + torch::diag_embed(diag * mu.unsqueeze(1));
    auto step = torch::linalg::solve(A, -g.unsqueeze(2), /*left=*/true).squeeze(2);

    // The model's own verdict: when even the decrease it predicts for this step is below the
    // relative tolerance, no step can make a change that counts. Stop without a trial.
    if (relative_tolerance > 0) {
      auto predicted =
          -(row_dot(g, step) + 0.5 * row_dot(step, (H * step.unsqueeze(1)).sum(-1)));
      auto negligible = predicted <= relative_tolerance * f_old.abs();
      auto after_rejection = last_rejected.index_select(0, rows);
      state.stop(rows.masked_select(negligible.logical_and(after_rejection)),
                 StopReason::kNoDescent);
      state.stop(rows.masked_select(negligible.logical_and(after_rejection.logical_not())),
                 StopReason::kRelativeChange);
      auto go = negligible.logical_not().nonzero().view({-1});
      if (go.numel() < rows.numel()) {
        rows = rows.index_select(0, go);
        g = g.index_select(0, go);
        mu = mu.index_select(0, go);
        f_old = f_old.index_select(0, go);
        step = step.index_select(0, go);
      }
      if (rows.numel() == 0) {
        state.end_iteration();
        continue;
      }
    }

    // Trial points: one forward pass; derivatives only where the step is accepted.
    auto sub = objective.restrict_to(rows);
    auto trial = sub.decode(state.y().index_select(0, rows) + step);
    auto f_try = sub.value(trial);
    auto better = f_try < f_old;
    auto better_idx = better.nonzero().view({-1});
    auto accepted = rows.index_select(0, better_idx);
    auto moved_points = trial.select(better_idx);
    auto moved_pattern = decoder.activation_pattern(moved_points.trace);
    const auto previous_pattern =
        pattern.defined() ? pattern.index_select(0, accepted) : torch::Tensor();
    // A stale Jacobian is refreshed after a rejected step (the model failed there), or when it
    // has served kMaxStaleSteps steps.
    auto refresh = settings_.options.gauss_newton.keep_stale_jacobian
                       ? last_rejected.index_select(0, accepted)
                             .logical_or(stale_steps.index_select(0, accepted) >= kMaxStaleSteps)
                       : torch::ones({accepted.size(0)}, on.dtype(torch::kBool));
    auto moved = jacobian_at(decoder, moved_points, moved_pattern, previous_pattern,
                             jacobian.index_select(0, accepted), guess.index_select(0, accepted),
                             refresh);
    auto derivatives = sub.restrict_to(better_idx)
                           .evaluate(moved_points, true, true, moved.jacobian, moved.stale);
    state.move(accepted, moved_points.y, derivatives.value);
    grad.index_copy_(0, accepted, derivatives.grad);
    gn.index_copy_(0, accepted, derivatives.gn);
    jacobian.index_copy_(0, accepted, moved.jacobian);
    guess.index_copy_(0, accepted, guess.index_select(0, accepted).logical_and(moved.stale));
    stale_steps.index_copy_(0, accepted,
                            torch::where(moved.stale, stale_steps.index_select(0, accepted) + 1,
                                         torch::zeros_like(accepted)));
    // A stale Jacobian keeps the pattern of the region it belongs to.
    if (pattern.defined())
      pattern.index_copy_(0, accepted,
                          torch::where(moved.stale.unsqueeze(1), previous_pattern, moved_pattern));
    damping.index_copy_(0, rows,
                        torch::where(better, (mu / kShrink).clamp_min(kMinDamping),
                                     (mu * kGrowth).clamp_min(kRetryDamping)));
    last_rejected.index_copy_(0, rows, better.logical_not());
    state.check_convergence(accepted, f_old.index_select(0, better_idx), derivatives.grad);
    auto tiny_rejected = better.logical_not().logical_and(step.norm(2, 1) < kMinStep);
    auto hopeless = rows.masked_select(
        tiny_rejected.logical_or(damping.index_select(0, rows) > kMaxDamping));
    state.stop(hopeless, StopReason::kNoDescent);
    state.end_iteration();
  }
  return state.finish();
}

}  // namespace preimage::solvers
