#include "solvers/grid_search.h"

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::solvers {
namespace {
constexpr int64_t kGridChunk = 4096;  // grid points decoded and scored together
}  // namespace

torch::Tensor GridSearch::make_grid(int64_t latent_dim, int64_t points, double radius) {
  auto axis = torch::linspace(-radius, radius, points, torch::kFloat32);
  std::vector<torch::Tensor> axes(static_cast<size_t>(latent_dim), axis);
  auto mesh = torch::meshgrid(axes, "ij");
  std::vector<torch::Tensor> cols;
  for (auto& m : mesh) cols.push_back(m.reshape({-1}));
  return torch::stack(cols, 1).contiguous();
}

std::pair<torch::Tensor, torch::Tensor> GridSearch::best_grid_points(
    const Objective& objective) const {
  torch::NoGradGuard no_grad;
  const int64_t L = objective.latent_dim();
  require(L <= kMaxLatentDim,
          fmt::format("grid search needs a latent dimension of at most {}, this decoder has {}",
                      kMaxLatentDim, L),
          "use a local method (gauss-newton, lbfgs) for larger latent spaces");
  require(settings_.grid_points >= 2, "grid search needs at least 2 points per axis");
  const auto& z = objective.targets();  // (B, P)
  auto grid = make_grid(L, settings_.grid_points, settings_.grid_radius).to(z.scalar_type());
  const auto& spec = objective.loss();
  const bool masked = spec.mask.defined();
  auto weighted = masked ? z * spec.mask : z;  // (B, P)
  const int64_t B = z.size(0);
  auto best = torch::full({B}, std::numeric_limits<double>::infinity(), z.options());
  auto best_idx = torch::zeros({B}, torch::kInt64);
  for (int64_t g0 = 0; g0 < grid.size(0); g0 += kGridChunk) {
    auto g = grid.slice(0, g0, std::min(grid.size(0), g0 + kGridChunk));
    auto logits = objective.engine().forward(g);  // (G, P)
    torch::Tensor scores;                           // (B, G), up to a per-image constant
    if (spec.kind == LossKind::kSquaredError) {
      auto s = torch::sigmoid(logits);
      scores = weighted.mm(s.t()).mul_(-2);
      if (masked) scores.add_(spec.mask.mm(s.square().t()));
      else scores.add_(s.square().sum(1).unsqueeze(0));
    } else {
      auto sp = torch::nn::functional::softplus(logits);
      scores = weighted.mm(logits.t()).neg_();
      if (masked) scores.add_(spec.mask.mm(sp.t()));
      else scores.add_(sp.sum(1).unsqueeze(0));
    }
    if (spec.prior_weight > 0) scores.add_(spec.prior_weight * g.square().sum(1).unsqueeze(0));
    auto [value, idx] = scores.min(1);
    auto better = value < best;
    best = torch::where(better, value, best);
    best_idx = torch::where(better, idx + g0, best_idx);
  }
  auto points = grid.index_select(0, best_idx);
  return {points, objective.value(points)};
}

Solution GridSearch::solve(const Objective& objective, const torch::Tensor& start) const {
  torch::NoGradGuard no_grad;
  auto [points, grid_loss] = best_grid_points(objective);
  (void)grid_loss;
  Solution s;
  if (settings_.refine == "none") {
    s.latents = points;
    s.final_loss = objective.value(points);
    s.iterations = torch::zeros({start.size(0)}, torch::kInt64);
    s.stop_reason = torch::full({start.size(0)}, static_cast<int64_t>(StopReason::kGlobalSearch),
                                torch::kInt64);
    s.left_box = detail::outside_box(points, settings_.box_radius);
  } else {
    require(settings_.refine != "grid", "grid cannot refine with itself");
    s = make_solver(settings_.refine, settings_)->solve(objective, points);
  }
  // The reference stays the caller's start (the encoder's point, as the thesis's delta).
  s.initial_loss = objective.value(start);
  auto worse = s.final_loss > s.initial_loss;
  s.latents = torch::where(worse.unsqueeze(1), start, s.latents);
  s.final_loss = torch::where(worse, s.initial_loss, s.final_loss);
  return s;
}

}  // namespace preimage::solvers
