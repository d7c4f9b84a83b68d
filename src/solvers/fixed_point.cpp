#include "solvers/fixed_point.h"

#include <limits>

#include "solvers/iteration_state.h"
#include "util/error.h"

namespace preimage::solvers {
namespace {

// Geometric mean of the step ratios over the second half of each image's steps.
// `steps` (B, T) holds |u_{k+1} - u_k| at column k; `used` (B) the steps taken.
torch::Tensor contraction_estimate(const torch::Tensor& steps, const torch::Tensor& used) {
  auto last = (used - 1).clamp_min(0);
  auto first = torch::minimum(used.div(2, "floor"), (last - 1).clamp_min(0));
  auto log_steps = steps.clamp_min(1e-30).log();
  auto log_last = log_steps.gather(1, last.unsqueeze(1)).squeeze(1);
  auto log_first = log_steps.gather(1, first.unsqueeze(1)).squeeze(1);
  auto span = (last - first).to(steps.scalar_type());
  auto estimate = ((log_last - log_first) / span).exp();
  return torch::where(used >= 2, estimate,
                      torch::full_like(estimate, std::numeric_limits<double>::quiet_NaN()));
}

}  // namespace

Solution FixedPoint::solve(const Objective& objective, const torch::Tensor& start,
                           const SolveHooks& hooks) const {
  torch::NoGradGuard no_grad;
  require(objective.encoder() != nullptr,
          "the fixed-point method needs the model's encoder, and none was given",
          "use a model with an encoder (the run's VAE has one), or call Objective::set_encoder");
  const auto& encoder = *objective.encoder();
  auto encode = [&](const torch::Tensor& images) { return encoder.encode(images).mean; };
  const int64_t B = start.size(0), T = std::max<int64_t>(settings_.stop.max_iterations, 1);
  auto target_code = encode(objective.targets()).to(start.scalar_type());  // E(Z), (B, L)
  auto logits = objective.decoder().forward(start);                        // D(u), (B, P)
  IterationState state(start, objective.value_from_logits(start, logits), settings_, hooks);
  auto steps = torch::zeros({B, T}, start.options());  // (B, T) |u_{k+1} - u_k|
  auto used = torch::zeros({B}, start.options().dtype(torch::kInt64));
  while (state.any_running()) {
    auto rows = state.running_rows();
    auto u = state.y().index_select(0, rows);
    auto decoded = torch::sigmoid(logits.index_select(0, rows));
    auto u_new = target_code.index_select(0, rows) - encode(decoded).to(u.scalar_type()) + u;
    auto step = (u_new - u).norm(2, 1);  // (R)
    auto sub = objective.restrict_to(rows);
    auto logits_new = objective.decoder().forward(u_new);
    // Every iterate is taken (the iteration does not descend); the state keeps the best.
    state.move(rows, u_new, sub.value_from_logits(u_new, logits_new));
    logits.index_copy_(0, rows, logits_new);
    const int64_t k = state.iteration();
    steps.select(1, k).index_copy_(0, rows, step);
    used.index_fill_(0, rows, k + 1);
    const double tolerance = settings_.options.fixed_point.step_tolerance;
    if (tolerance > 0) state.stop(rows.masked_select(step < tolerance), StopReason::kStepNorm);
    state.end_iteration();
  }
  auto s = state.finish();
  s.diagnostics["contraction"] = contraction_estimate(steps, used).to(torch::kFloat32);
  s.diagnostics["fixed_point_loss"] = state.f().to(torch::kFloat32);
  s.diagnostics["step_norm"] =
      steps.gather(1, (used - 1).clamp_min(0).unsqueeze(1)).squeeze(1).to(torch::kFloat32);
  return s;
}

}  // namespace preimage::solvers
