#include "solvers/grid.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "solvers/registry.h"
#include "util/error.h"

namespace preimage::solvers {

namespace {
constexpr int64_t kImageChunk = 2048;   // images scored against the coarse grid together
// Images scored against the union of their windows. The union grows faster than the chunk
// (neighbouring images in the order still differ in their second candidate): small chunks in
// Z-order scored each image against far fewer grid points than larger ones in row order
// (docs/PERFORMANCE.md).
constexpr int64_t kWindowChunk = 64;
constexpr double kMaxGridBytes = 2e9;   // decoded grid larger than this: refuse, hint a smaller n

// Multi-index (.., L) <-> flat index of a row-major n^L grid.
torch::Tensor multi_index(const torch::Tensor& flat, int64_t n, int64_t L) {
  std::vector<torch::Tensor> axes(static_cast<size_t>(L));
  auto rest = flat.clone();
  for (int64_t i = L - 1; i >= 0; --i) {
    axes[static_cast<size_t>(i)] = rest.remainder(n);
    rest = rest.div(n, "floor");
  }
  return torch::stack(axes, -1);
}
torch::Tensor flat_index(const torch::Tensor& multi, int64_t n) {
  auto flat = torch::zeros(multi.sizes().slice(0, multi.dim() - 1), multi.options());
  for (int64_t i = 0; i < multi.size(-1); ++i) flat = flat * n + multi.select(-1, i);
  return flat;
}
// An order of the images in which neighbours have nearby points `multi` (B, L) of a grid of
// `n` points per axis: sorted along the Z-order (Morton) curve, so that a run of images covers a
// compact block of the grid rather than a strip of rows.
torch::Tensor z_order(const torch::Tensor& multi, int64_t n) {
  const int64_t L = multi.size(1);
  int64_t bits = 1;
  while ((int64_t{1} << bits) < n) ++bits;
  auto key = torch::zeros({multi.size(0)}, multi.options());
  for (int64_t bit = bits - 1; bit >= 0; --bit)
    for (int64_t i = 0; i < L; ++i)
      key = key * 2 + multi.select(1, i).bitwise_right_shift(bit).bitwise_and(1);
  return std::get<1>(key.sort());
}
// Offsets {-k..k}^L, (W, L), with the options (device) of `like`.
torch::Tensor offsets(int64_t k, int64_t L, const torch::TensorOptions& like) {
  return multi_index(torch::arange(static_cast<int64_t>(std::pow(2 * k + 1, L)), like), 2 * k + 1,
                     L) -
         k;
}
// Flat indices of the windows of half-width k around `centers` (B, K) flat: (B, K * W),
// clamped to the grid (clamped duplicates are harmless: they score the same point twice).
torch::Tensor windows(const torch::Tensor& centers, int64_t n, int64_t L, int64_t k) {
  auto multi = multi_index(centers, n, L).unsqueeze(-2) + offsets(k, L, centers.options());  // (B, K, W, L)
  return flat_index(multi.clamp(0, n - 1), n).view({centers.size(0), -1});
}

}  // namespace

int64_t GridSearch::points_per_axis(const GridOptions& options, int64_t latent_dim) {
  if (options.points > 0) return options.points;
  return latent_dim <= 2 ? 201 : 41;
}

std::shared_ptr<const DecodedGrid> GridSearch::decoded_grid(const Objective& objective) const {
  torch::NoGradGuard no_grad;
  const int64_t L = objective.latent_dim();
  require(L <= kMaxLatentDim,
          fmt::format("grid search needs a latent dimension of at most {}, this decoder has {}",
                      kMaxLatentDim, L),
          "use a local method (gauss-newton, lbfgs) for larger latent spaces");
  const auto& options = settings_.options.grid;
  const int64_t n = points_per_axis(options, L);
  require(n >= 2, fmt::format("grid search needs at least 2 points per axis, got {}", n));
  const double bytes = DecodedGrid::bytes(L, n, objective.decoder().pixels());
  require(bytes <= kMaxGridBytes,
          fmt::format("a grid of {}^{} points would take {:.1f} GB decoded", n, L, bytes / 1e9),
          "lower --grid-points");
  std::lock_guard<std::mutex> lock(mutex_);
  if (!grid_ || !grid_->made_for(objective, n, options.radius))
    grid_ = std::make_shared<const DecodedGrid>(DecodedGrid::decode(objective, n, options.radius));
  return grid_;
}

void GridSearch::prepare(const Objective& objective) { decoded_grid(objective); }

GridSearch::Search GridSearch::search(const Objective& objective, bool secant_jacobian) const {
  torch::NoGradGuard no_grad;
  const auto decoded = decoded_grid(objective);
  const DecodedGrid& grid = *decoded;
  const int64_t L = objective.latent_dim();
  const int64_t n = grid.n;
  const auto& z = objective.targets();  // (B, P)
  const auto dtype = z.scalar_type();
  const auto& mask = objective.loss().mask;
  const auto weighted = mask.defined() ? z * mask : z;  // (B, P) m z
  const int64_t B = z.size(0);
  const auto index = z.options().dtype(torch::kInt64);  // indices on the images' device

  // 1. Coarse: every image against every kCoarseStride-th point per axis.
  const int64_t stride = n > 2 * kCoarseStride ? kCoarseStride : 1;
  auto coarse_axis = torch::arange(0, n, stride, index);
  if (coarse_axis[-1].item<int64_t>() != n - 1)
    coarse_axis = torch::cat({coarse_axis, torch::full({1}, n - 1, index)});
  const int64_t nc = coarse_axis.size(0);
  const auto coarse_multi =
      multi_index(torch::arange(static_cast<int64_t>(std::pow(nc, L)), index), nc, L);
  auto coarse = flat_index(coarse_axis.index_select(0, coarse_multi.view({-1})).view({-1, L}),
                           n);  // (Gc) flat indices into the fine grid
  const int64_t K = std::min<int64_t>(kCandidates, coarse.size(0));
  auto candidates = torch::empty({B, K}, index);
  for (int64_t b0 = 0; b0 < B; b0 += kImageChunk) {
    auto rows = torch::arange(b0, std::min(B, b0 + kImageChunk), index);
    auto top = std::get<1>(grid.scores(objective, weighted, rows, coarse).topk(K, 1, false));
    candidates.index_copy_(0, rows, coarse.index_select(0, top.view({-1})).view({-1, K}));
  }

  // 2. Fine: windows around the candidates, images ordered by their best coarse point so that
  // a chunk's windows overlap and one GEMM against their union scores them all.
  auto win = windows(candidates, n, L, stride);  // (B, K * W)
  auto order = z_order(multi_index(candidates.select(1, 0), n, L).div(stride, "floor"), nc);
  auto best_idx = torch::empty({B}, index);
  auto best_score = torch::empty({B}, z.options());
  for (int64_t b0 = 0; b0 < B; b0 += kWindowChunk) {
    auto rows = order.slice(0, b0, std::min(B, b0 + kWindowChunk));
    auto own = win.index_select(0, rows);  // (C, K * W)
    auto [uni, inverse] = at::_unique(own.view({-1}), /*sorted=*/false, /*return_inverse=*/true);
    // Each image takes the best of its own windows only, so that its result does not depend on
    // the images it is solved with (batched = alone).
    auto member = torch::zeros({rows.size(0), uni.size(0)}, index.dtype(torch::kBool))
                      .scatter_(1, inverse.view(own.sizes()), true);
    auto [value, at] = grid.scores(objective, weighted, rows, uni)
                           .masked_fill_(member.logical_not(),
                                         std::numeric_limits<double>::infinity())
                           .min(1);
    best_idx.index_copy_(0, rows, uni.index_select(0, at));
    best_score.index_copy_(0, rows, value);
  }
  Search out;
  out.points = grid.points.index_select(0, best_idx);
  out.loss = best_score + DecodedGrid::score_offset(objective, weighted);

  // 3. A quadratic through the 3^L scores around the best point (per image, gathered).
  auto nb = windows(best_idx.unsqueeze(1), n, L, 1);  // (B, 3^L)
  auto nb_scores = torch::empty(nb.sizes(), z.options());
  for (int64_t b0 = 0; b0 < B; b0 += kImageChunk) {
    const int64_t b1 = std::min(B, b0 + kImageChunk);
    auto idx = nb.slice(0, b0, b1);
    auto f = grid.feature.index_select(0, idx.reshape({-1})).view({idx.size(0), idx.size(1), -1});
    // (Reductions over pixels, not a batched product: that loops over the images on the CPU.)
    auto s = (f * weighted.slice(0, b0, b1).unsqueeze(1)).sum(-1) * grid.coefficient;
    if (mask.defined()) {
      s += (grid.penalty(f) * mask.slice(0, b0, b1).unsqueeze(1)).sum(-1);
      if (grid.prior > 0)
        s += grid.points.index_select(0, idx.reshape({-1})).square().sum(1).view(idx.sizes()) *
             grid.prior;
    } else {
      s += grid.constant.index_select(0, idx.reshape({-1})).view(idx.sizes());
    }
    nb_scores.slice(0, b0, b1).copy_(s);
  }
  // Finite differences on the 3^L stencil (index = sum_i (o_i + 1) 3^(L-1-i)).
  const double h = 2 * grid.radius / static_cast<double>(n - 1);
  auto at = [&](std::vector<int64_t> o) {
    int64_t k = 0;
    for (int64_t v : o) k = k * 3 + v + 1;
    return nb_scores.select(1, k);
  };
  auto grad = torch::empty({B, L}, z.options());
  auto hess = torch::empty({B, L, L}, z.options());
  const std::vector<int64_t> zero(static_cast<size_t>(L), 0);
  auto f0 = at(zero);
  for (int64_t i = 0; i < L; ++i) {
    auto plus = zero, minus = zero;
    plus[static_cast<size_t>(i)] = 1;
    minus[static_cast<size_t>(i)] = -1;
    grad.select(1, i).copy_((at(plus) - at(minus)) / (2 * h));
    hess.select(1, i).select(1, i).copy_((at(plus) - 2 * f0 + at(minus)) / (h * h));
    for (int64_t j = i + 1; j < L; ++j) {
      auto pp = zero, pm = zero, mp = zero, mm = zero;
      pp[i] = 1, pp[j] = 1, pm[i] = 1, pm[j] = -1, mp[i] = -1, mp[j] = 1, mm[i] = -1, mm[j] = -1;
      auto c = (at(pp) - at(pm) - at(mp) + at(mm)) / (4 * h * h);
      hess.select(1, i).select(1, j).copy_(c);
      hess.select(1, j).select(1, i).copy_(c);
    }
  }
  auto [chol, info] = at::linalg_cholesky_ex(hess);
  auto convex = info.eq(0);  // positive definite: the quadratic has a minimum
  auto step = torch::cholesky_solve(-grad.unsqueeze(2), chol).squeeze(2);
  step = torch::where(convex.unsqueeze(1).logical_and(torch::isfinite(step)), step,
                      torch::zeros_like(step));
  out.quadratic = out.points + step.clamp(-h, h);  // stay within the stencil

  // 4. Secant Jacobians: differences of the logits of the best point's neighbours per axis
  // (central, one-sided at the box's edge).
  if (secant_jacobian) {
    const auto multi = multi_index(best_idx, n, L);  // (B, L)
    out.secant_jacobian = torch::empty({B, L, objective.decoder().pixels()}, z.options());
    for (int64_t i = 0; i < L; ++i) {
      auto up = multi.clone(), down = multi.clone();
      up.select(1, i).add_(1).clamp_max_(n - 1);
      down.select(1, i).sub_(1).clamp_min_(0);
      auto span = (up.select(1, i) - down.select(1, i)).to(dtype).mul_(h).unsqueeze(1);
      out.secant_jacobian.select(1, i).copy_(
          (grid.logits(flat_index(up, n)) - grid.logits(flat_index(down, n))) / span);
    }
  }
  return out;
}

std::pair<torch::Tensor, torch::Tensor> GridSearch::best_grid_points(
    const Objective& objective) const {
  auto s = search(objective);
  return {s.points, s.loss};
}

Solution GridSearch::solve(const Objective& objective, const torch::Tensor& start,
                           const SolveHooks& hooks) const {
  torch::NoGradGuard no_grad;
  const auto& refine = settings_.options.grid.refine;
  const bool local = refine.kind == RefinementKind::kLocal;
  require(!local || refine.method != "grid", "grid cannot refine with itself");
  // A refinement that can use the grid's secant Jacobian (Gauss-Newton) starts from it.
  const bool secant = local && method_spec(refine.method).takes_jacobian_guess;
  auto found = search(objective, secant);
  const int64_t B = start.size(0);
  auto points = found.points, loss = found.loss;
  torch::Tensor initial;  // the objective at the caller's start
  Solution s;
  if (!local) {
    if (refine.kind == RefinementKind::kQuadratic) {
      // The quadratic's minimiser, evaluated: kept where better than the grid point.
      auto q_loss = objective.value(found.quadratic);
      auto better = q_loss < loss;
      points = torch::where(better.unsqueeze(1), found.quadratic, points);
      loss = torch::where(better, q_loss, loss);
    }
    s.latents = points;
    s.final_loss = loss;
    s.iterations = torch::zeros({B}, start.options().dtype(torch::kInt64));
    s.stop_reason = torch::full({B}, static_cast<int64_t>(StopReason::kGlobalSearch),
                                start.options().dtype(torch::kInt64));
    s.left_box = detail::outside_box(points, settings_.box_radius);
    s.curves = detail::make_curves(hooks.curve_images, 0);
    detail::record_curve(s.curves, hooks.curve_images, loss, 0);
  } else {
    // The local method starts at the quadratic's minimiser, or at the caller's start where
    // that is better: the grid's spacing can miss a narrow basin the start lies in (on MNIST
    // the encoder's point beats the grid's for about 0.7% of images, and refining from it
    // gains up to 8% there). The grid point stays where it is better than either's result.
    const auto at_start = objective.decode(start);
    const auto at_quadratic = objective.decode(found.quadratic);
    initial = objective.value(at_start);
    auto from_start = initial < objective.value(at_quadratic);
    const auto first = DecodedPoints::where(from_start, at_start, at_quadratic);
    // Started within a grid step of the best grid point, with that point's secant as its first
    // Jacobian (rows started from the caller's point have no guess).
    s = make_solver(refine.method, settings_)
            ->solve_guessed(objective, first, found.secant_jacobian, from_start.logical_not(),
                            hooks);
    auto grid_better = loss < s.final_loss;
    s.latents = torch::where(grid_better.unsqueeze(1), points, s.latents);
    s.final_loss = torch::where(grid_better, loss, s.final_loss);
    s.diagnostics["refined_from_start"] = from_start.logical_and(grid_better.logical_not());
  }
  // The reference stays the caller's start (the encoder's point, as the thesis's delta).
  s.initial_loss = initial.defined() ? initial : objective.value(start);
  auto worse = s.final_loss > s.initial_loss;
  s.latents = torch::where(worse.unsqueeze(1), start, s.latents);
  s.final_loss = torch::where(worse, s.initial_loss, s.final_loss);
  s.diagnostics["far_from_start"] = (s.latents - start).norm(2, 1) > kFarFromStart;
  return s;
}

}  // namespace preimage::solvers
