#include "certify/branch_and_bound.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "certify/local_network.h"
#include "certify/loss_bounds.h"
#include "util/error.h"

namespace preimage::certify {

namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kEdgeShare = 0.01;  // within 1% of the radius of the border: "at the edge"

// The first level's cell centres, n per axis over [-r, r]^L, in Morton (Z) order: splitting
// each cell into its 2^L children in the same bit order keeps every level in Z-order, so a
// chunk of consecutive cells is a compact patch of the plane, open for few images.
torch::Tensor first_level(int64_t L, int64_t n, double radius, const torch::TensorOptions& opt) {
  int64_t bits = 0;
  while ((int64_t{1} << bits) < n) ++bits;
  const int64_t side = int64_t{1} << bits;
  const int64_t total = static_cast<int64_t>(std::pow(side, L));
  auto code = torch::arange(total, opt.dtype(torch::kInt64));
  std::vector<torch::Tensor> axes;
  for (int64_t i = 0; i < L; ++i) axes.push_back(torch::zeros_like(code));
  for (int64_t bit = 0; bit < bits; ++bit)
    for (int64_t i = 0; i < L; ++i) {
      // Morton: bit `bit` of axis i is bit (bit * L + L - 1 - i) of the code.
      auto b = code.bitwise_right_shift(bit * L + L - 1 - i).bitwise_and(1);
      axes[static_cast<size_t>(i)] += b * (int64_t{1} << bit);
    }
  auto multi = torch::stack(axes, 1);                           // (side^L, L)
  auto inside = multi.lt(n).all(1);
  multi = multi.index({inside});
  const double h = radius / static_cast<double>(n);
  return (multi.to(opt.dtype()) * (2 * h) + (h - radius)).contiguous();
}

// Offsets of the 2^L children, in the bit order of first_level: child k's axis i is bit
// (L - 1 - i) of k. (2^L, L) of -1 / +1.
torch::Tensor child_signs(int64_t L, const torch::TensorOptions& opt) {
  const int64_t K = int64_t{1} << L;
  auto k = torch::arange(K, opt.dtype(torch::kInt64));
  std::vector<torch::Tensor> axes;
  for (int64_t i = 0; i < L; ++i)
    axes.push_back(k.bitwise_right_shift(L - 1 - i).bitwise_and(1).to(opt.dtype()) * 2 - 1);
  return torch::stack(axes, 1);
}

// One field of several cells' bounds, joined.
torch::Tensor cat_field(const std::vector<CellBounds>& parts, torch::Tensor CellBounds::*field) {
  std::vector<torch::Tensor> t;
  t.reserve(parts.size());
  for (const auto& p : parts) t.push_back(p.*field);
  return torch::cat(t);
}

// Per group in [0, n) the least of `value` (Q) over its rows in `group` (Q), `none` where there
// are none. A loop rather than LibTorch's scatter_reduce_, which prints a "beta API" warning.
template <typename T>
torch::Tensor least_per_group(const torch::Tensor& value, const torch::Tensor& group, int64_t n,
                              T none) {
  auto out = torch::full({n}, none, value.options());
  const auto v = value.contiguous(), g = group.contiguous();
  const T* pv = v.template data_ptr<T>();
  const int64_t* pg = g.data_ptr<int64_t>();
  T* po = out.template data_ptr<T>();
  for (int64_t i = 0; i < v.numel(); ++i) po[pg[i]] = std::min(po[pg[i]], pv[i]);
  return out;
}

torch::Tensor group_min(const torch::Tensor& value, const torch::Tensor& group, int64_t n) {
  return least_per_group<double>(value, group, n, kInfinity);
}

// The bounds of the cells found in one linear region, joined, to split them by split_affine.
CellBounds join_linear(const std::vector<CellBounds>& parts) {
  CellBounds joined;
  if (parts.empty()) return joined;
  joined.offset = cat_field(parts, &CellBounds::offset);
  joined.center_logits = joined.offset;
  joined.generators = cat_field(parts, &CellBounds::generators);
  joined.box = cat_field(parts, &CellBounds::box);
  joined.unstable = cat_field(parts, &CellBounds::unstable);
  return joined;
}

// The centres' losses `value` of pairs (pair_cell, pair_image) improve the incumbents: per
// image, the least value below its incumbent (the first pair of the least value wins) makes its
// point that cell's centre.
void improve_incumbents(Certificate& out, const torch::Tensor& value,
                        const torch::Tensor& pair_cell, const torch::Tensor& pair_image,
                        const torch::Tensor& centers) {
  const int64_t B = out.incumbent.size(0);
  auto best = group_min(value, pair_image, B);
  auto better = best < out.incumbent;
  if (!better.any().item<bool>()) return;
  auto q = torch::arange(pair_image.size(0), pair_image.options());
  auto hit = value.eq(best.index_select(0, pair_image))
                 .logical_and(better.index_select(0, pair_image));
  auto first = least_per_group<int64_t>(q.masked_select(hit), pair_image.masked_select(hit), B,
                                        pair_image.size(0));
  auto rows = better.nonzero().view({-1});
  out.point.index_copy_(
      0, rows, centers.index_select(0, pair_cell.index_select(0, first.index_select(0, rows))));
  out.incumbent = torch::where(better, best, out.incumbent);
  out.improved.logical_or_(better);
}

// Bytes of one restricted network of `slots` slots (local_network.h: its maps, errors and sums).
int64_t network_bytes(const DenseNetwork& network, int64_t slots) {
  const int64_t J = 1 + network.latent_dim() + slots;
  return std::max<int64_t>((network.pixels() + slots) * (J + 2) * 8, 1);
}

// The restricted networks of the next level: the networks `kept_of` (one per parent that lies
// inside one, rows of `local`), then one new network per parent in `fresh_cells` (their
// centres and half-widths, their hidden bounds `fresh_bounds`). Returns them and, per child
// (`children` per parent, in that order of parents), the row of its network.
std::pair<LocalNetworks, torch::Tensor> next_networks(
    const DenseNetwork& network, const LocalNetworks& local, const torch::Tensor& kept_of,
    const CellBounds& fresh_bounds, const torch::Tensor& fresh_centers,
    const torch::Tensor& fresh_half, int64_t max_slots, int64_t children) {
  auto [kept, kept_index] = at::_unique(kept_of, /*sorted=*/true, /*return_inverse=*/true);
  const int64_t fresh = fresh_centers.size(0);
  LocalNetworks made;
  if (fresh > 0)
    made = restrict_network(network, fresh_bounds, fresh_centers, fresh_half, max_slots);
  auto joined =
      join_networks(local.size() > 0 ? select_networks(local, kept) : LocalNetworks{}, made);
  auto which = torch::cat({kept_index, torch::arange(fresh, kept_of.options()) + kept.size(0)})
                   .repeat_interleave(children);
  return {std::move(joined), std::move(which)};
}

// The claims that follow from the incumbents, points and lower bound: certified within the
// tolerance, and the optimum at the box's border.
void state_claims(Certificate& c, const CertifyOptions& options) {
  c.certified = c.lower_bound >= c.incumbent - c.incumbent.abs().clamp_min(1) * options.tolerance;
  c.at_edge = c.point.abs().amax(1) >= options.radius * (1 - kEdgeShare);
}

}  // namespace

torch::Tensor Certificate::gap() const {
  return (incumbent - lower_bound).clamp_min(0) / incumbent.abs().clamp_min(1);
}

int64_t first_level_cells(int64_t latent_dim, const CertifyOptions& options) {
  return static_cast<int64_t>(std::llround(
      std::pow(static_cast<double>(options.initial_cells), static_cast<double>(latent_dim))));
}

Certificate certify(const DenseNetwork& network, solvers::LossKind kind, double prior_weight,
                    const torch::Tensor& targets, const torch::Tensor& mask,
                    const torch::Tensor& points, const CertifyOptions& options,
                    const LevelCallback& on_level) {
  return certify_part(network, kind, prior_weight, targets, mask, points, options,
                      {0, first_level_cells(points.size(1), options)}, on_level);
}

Certificate certify_part(const DenseNetwork& network, solvers::LossKind kind,
                         double prior_weight, const torch::Tensor& targets,
                         const torch::Tensor& mask, const torch::Tensor& points,
                         const CertifyOptions& options, std::pair<int64_t, int64_t> part,
                         const LevelCallback& on_level) {
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(torch::kCPU);
  const auto index = f64.dtype(torch::kInt64);
  const int64_t B = targets.size(0), P = targets.size(1), L = points.size(1);
  require(network.pixels() == P && network.latent_dim() == L,
          fmt::format("the certificate's images have {} pixels and latents {} dimensions; the "
                      "decoder maps {} to {}",
                      P, L, network.latent_dim(), network.pixels()));
  require(L <= 3, fmt::format("certificates need a latent dimension of at most 3, got {}", L),
          "a box of a higher dimension has too many cells to cover");
  require(options.radius > 0 && options.tolerance > 0 && options.initial_cells >= 1 &&
              options.symbols >= 0 && options.max_depth >= 0 && options.max_cells >= 1 &&
              options.local_neurons >= 0 && options.local_memory >= 0,
          "certificate options: radius, tolerance and cells must be positive");
  const auto z = targets.to(f64);
  torch::Tensor m;
  if (mask.defined()) m = mask.to(f64).expand({B, P}).contiguous();
  const auto weighted = m.defined() ? z * m : z;
  const auto offset = image_offset(kind, z, m);

  Certificate out;
  out.point = points.to(f64).clone();
  out.incumbent = loss_at(kind, prior_weight, network.forward(out.point), z, m, out.point);
  out.improved = torch::zeros({B}, f64.dtype(torch::kBool));
  out.cells = torch::zeros({B}, index);
  auto leaf = torch::full({B}, kInfinity, f64);  // least bound of the cells closed so far

  // Level 0: every cell of the part open for every image (pairs made per chunk, below).
  const int64_t first_cells = first_level_cells(L, options);
  require(0 <= part.first && part.first < part.second && part.second <= first_cells,
          fmt::format("a part of the box is a range of its first level's {} cells, got [{}, {})",
                      first_cells, part.first, part.second));
  auto centers = first_level(L, options.initial_cells, options.radius, f64)
                     .slice(0, part.first, part.second)
                     .contiguous();
  auto half = torch::full_like(centers, options.radius / static_cast<double>(options.initial_cells));
  torch::Tensor pair_cell, pair_image;  // (Q) sorted by cell; undefined at level 0: all pairs
  const auto signs = child_signs(L, f64);
  const int64_t children = signs.size(0);
  // The level's first `affine_count` cells lie in one linear region found at a coarser level:
  // their bounds (`affine`) came from their parents' without a network pass.
  CellBounds affine;
  int64_t affine_count = 0;
  // The next `local_count` cells lie inside cells whose restricted networks are `local`: cell
  // affine_count + i inside network local_which[i].
  LocalNetworks local;
  torch::Tensor local_which;
  int64_t local_count = 0;

  for (int64_t level = 0;; ++level) {
    const int64_t C = centers.size(0);
    const bool all = !pair_cell.defined();
    torch::Tensor cell_start;  // (C + 1) first pair of each cell
    if (!all)
      cell_start = torch::searchsorted(pair_cell, torch::arange(C + 1, index));
    std::vector<torch::Tensor> lowers, values, cells_of, images_of;
    // The cells found in one linear region (their bounds kept to split them without the network).
    std::vector<torch::Tensor> linear_ids;
    std::vector<CellBounds> linear_bounds;
    // The network-bounded cells that may restrict the network for their children: their
    // hidden layers' bounds, kept until the level decides which cells are split.
    std::vector<torch::Tensor> restrictable_ids;
    std::vector<CellBounds> restrictable_bounds;
    std::vector<std::pair<int64_t, int64_t>> chunks;  // affine, local and network cells apart
    const int64_t local_end = affine_count + local_count;
    for (auto [begin, end] : {std::pair{int64_t{0}, affine_count},
                              std::pair{affine_count, local_end}, std::pair{local_end, C}})
      for (int64_t c0 = begin; c0 < end; c0 += options.cell_chunk)
        chunks.emplace_back(c0, std::min(end, c0 + options.cell_chunk));
    for (const auto& [c0, c1] : chunks) {
      torch::Tensor pc, pi;  // this chunk's pairs
      if (all) {
        pc = torch::arange(c0, c1, index).repeat_interleave(B);
        pi = torch::arange(B, index).repeat({c1 - c0});
      } else {
        const int64_t q0 = cell_start[c0].item<int64_t>(), q1 = cell_start[c1].item<int64_t>();
        if (q0 == q1) continue;
        pc = pair_cell.slice(0, q0, q1);
        pi = pair_image.slice(0, q0, q1);
      }
      auto [images, inverse] = at::_unique(pi, /*sorted=*/true, /*return_inverse=*/true);
      auto c = centers.slice(0, c0, c1), h = half.slice(0, c0, c1);
      const bool inherited = c1 <= affine_count, restricted = !inherited && c1 <= local_end;
      CellBounds bounds;
      if (inherited) {
        bounds = select_cells(affine, torch::arange(c0, c1, index));
      } else if (restricted) {
        bounds = bound_local(local, local_which.slice(0, c0 - affine_count, c1 - affine_count),
                             c, h);
        out.local_cells += c1 - c0;
      } else {
        bounds = bound_cells(network, c, h, options.symbols);
        out.network_cells += c1 - c0;
        auto few = bounds.unstable.gt(0).logical_and(bounds.unstable.le(options.local_neurons));
        auto rows = few.nonzero().view({-1});
        if (rows.size(0) > 0) {
          CellBounds kept;
          kept.hidden_lower = bounds.hidden_lower.index_select(0, rows);
          kept.hidden_upper = bounds.hidden_upper.index_select(0, rows);
          kept.unstable = bounds.unstable.index_select(0, rows);
          restrictable_ids.push_back(rows + c0);
          restrictable_bounds.push_back(std::move(kept));
        }
      }
      auto linear = bounds.unstable.eq(0).nonzero().view({-1});
      if (linear.size(0) > 0) {
        auto kept = select_cells(bounds, linear);
        kept.generators = kept.generators.slice(1, 0, L).contiguous();
        linear_ids.push_back(linear + c0);
        linear_bounds.push_back(std::move(kept));
      }
      auto forms = loss_forms(bounds, kind, prior_weight, c, h);
      auto pb = evaluate(forms, weighted.index_select(0, images),
                         m.defined() ? m.index_select(0, images) : m,
                         offset.index_select(0, images));
      auto flat = inverse * (c1 - c0) + (pc - c0);  // (image row, cell in the chunk)
      auto lower = pb.lower.reshape({-1}).index_select(0, flat);
      if (options.unsound_slack_for_tests != 0)
        lower = lower + (lower.abs() + 1) * options.unsound_slack_for_tests;
      lowers.push_back(lower);
      values.push_back(pb.center.reshape({-1}).index_select(0, flat));
      cells_of.push_back(pc);
      images_of.push_back(pi);
    }
    out.distinct_cells += C;
    affine = CellBounds{};
    if (lowers.empty()) break;
    auto lower = torch::cat(lowers), value = torch::cat(values);
    pair_cell = torch::cat(cells_of);
    pair_image = torch::cat(images_of);
    out.cells += torch::bincount(pair_image, {}, B);

    improve_incumbents(out, value, pair_cell, pair_image, centers);

    // Close the pairs whose bound clears the incumbent less the tolerance; give up the images
    // over their budget or at the last level (their open cells' bounds count as they are).
    auto threshold = out.incumbent - out.incumbent.abs().clamp_min(1) * options.tolerance;
    auto open = lower < threshold.index_select(0, pair_image);
    auto spent = out.cells.gt(options.max_cells);
    if (level >= options.max_depth) spent.fill_(true);
    auto give_up = open.logical_and(spent.index_select(0, pair_image));
    open.logical_and_(give_up.logical_not());
    auto closed = open.logical_not();
    leaf = torch::minimum(leaf, group_min(lower.masked_select(closed),
                                          pair_image.masked_select(closed), B));
    out.levels = level + 1;
    const int64_t remaining = open.any().item<bool>()
                                  ? std::get<0>(at::_unique(pair_image.masked_select(open))).size(0)
                                  : 0;
    if (on_level) on_level(level, out.distinct_cells, remaining);
    if (remaining == 0) break;

    // Split the cells still open for some image; each child inherits its parent's open images.
    // The parents in one linear region go first: their children's bounds follow from theirs.
    auto kept_cell = pair_cell.masked_select(open), kept_image = pair_image.masked_select(open);
    auto [parents, parent_of] = at::_unique(kept_cell, /*sorted=*/true, /*return_inverse=*/true);
    auto row_of = torch::full({C}, -1, index);  // the cell's row among the linear ones, or -1
    if (!linear_ids.empty()) {
      auto ids = torch::cat(linear_ids);
      row_of.index_copy_(0, ids, torch::arange(ids.size(0), index));
    }
    auto linear = join_linear(linear_bounds);
    linear_bounds.clear();
    auto row = row_of.index_select(0, parents);
    auto is_linear = row.ge(0);
    // Parents inside a restricted network keep it; network-bounded parents with few unstable
    // ReLUs make theirs, as many as the memory holds. The order: linear parents, those inside,
    // those making one, those that could but did not fit, then the others.
    auto is_inside = parents.ge(affine_count)
                         .logical_and(parents.lt(local_end))
                         .logical_and(is_linear.logical_not());
    auto restrict_row = torch::full({C}, -1, index);
    if (!restrictable_ids.empty()) {
      auto ids = torch::cat(restrictable_ids);
      restrict_row.index_copy_(0, ids, torch::arange(ids.size(0), index));
    }
    auto new_row = restrict_row.index_select(0, parents);
    auto is_new = new_row.ge(0).logical_and(is_linear.logical_not());
    auto is_other = is_linear.logical_or(is_inside).logical_or(is_new).logical_not();
    auto inside = is_inside.nonzero().view({-1}), fresh = is_new.nonzero().view({-1});
    if (fresh.size(0) > 1) {
      // Fewest unstable ReLUs first: networks made and bounded together have alike sizes (a
      // batch is as wide as its largest).
      auto unstable = cat_field(restrictable_bounds, &CellBounds::unstable)
                          .index_select(0, new_row.index_select(0, fresh));
      auto by_size = std::get<1>(unstable.sort(/*stable=*/c10::optional<bool>(true), 0));
      fresh = fresh.index_select(0, by_size);
    }
    // The networks kept; new ones only as many as `local_memory` holds with them (the others'
    // children go through the whole network).
    auto kept_of = local_which.defined()
                       ? local_which.index_select(0, parents.index_select(0, inside) - affine_count)
                       : torch::empty({0}, index);
    const int64_t kept_networks =
        kept_of.size(0) > 0 ? std::get<0>(at::_unique(kept_of)).size(0) : 0;
    const int64_t room = std::max<int64_t>(
        options.local_memory / network_bytes(network, options.local_neurons) - kept_networks, 0);
    auto dropped = fresh.slice(0, std::min(room, fresh.size(0)));
    fresh = fresh.slice(0, 0, std::min(room, fresh.size(0)));
    auto order_parents = torch::cat({is_linear.nonzero().view({-1}), inside, fresh, dropped,
                                     is_other.nonzero().view({-1})});
    const int64_t Cp = parents.size(0), linear_parents = is_linear.sum().item<int64_t>();
    {
      // The networks the next level's local cells lie in: the kept ones, then the new ones.
      CellBounds fresh_bounds;
      if (fresh.size(0) > 0) {
        auto rows = new_row.index_select(0, fresh);
        fresh_bounds.hidden_lower =
            cat_field(restrictable_bounds, &CellBounds::hidden_lower).index_select(0, rows);
        fresh_bounds.hidden_upper =
            cat_field(restrictable_bounds, &CellBounds::hidden_upper).index_select(0, rows);
      }
      auto cells = parents.index_select(0, fresh);
      std::tie(local, local_which) = next_networks(
          network, local, kept_of, fresh_bounds, centers.index_select(0, cells),
          half.index_select(0, cells), options.local_neurons, children);
      local_count = local_which.size(0);
    }
    restrictable_bounds.clear();
    auto rank = torch::empty_like(order_parents);
    rank.index_copy_(0, order_parents, torch::arange(Cp, index));
    parents = parents.index_select(0, order_parents);
    parent_of = rank.index_select(0, parent_of);
    if (linear_parents > 0)
      affine = split_affine(
          select_cells(linear, row.index_select(0, order_parents).slice(0, 0, linear_parents)),
          signs);
    linear = CellBounds{};
    affine_count = linear_parents * children;
    auto child_half = half.index_select(0, parents) / 2;         // (Cp, L)
    centers = (centers.index_select(0, parents).unsqueeze(1) +
               signs.unsqueeze(0) * child_half.unsqueeze(1))
                  .reshape({-1, L})
                  .contiguous();
    half = child_half.repeat_interleave(children, 0);
    // Pairs (child, image), sorted by child: parent p's images repeated for each child.
    auto child = (parent_of.unsqueeze(1) * children + torch::arange(children, index))
                     .reshape({-1});                              // (Qk * 2^L)
    auto image = kept_image.repeat_interleave(children);
    auto order = std::get<1>(child.sort(/*stable=*/c10::optional<bool>(true), 0));
    pair_cell = child.index_select(0, order);
    pair_image = image.index_select(0, order);
  }
  // The incumbents found at cells' centres were the bounds' arithmetic; the network's own
  // forward pass gives the values the certificate states.
  if (out.improved.any().item<bool>()) {
    auto rows = out.improved.nonzero().view({-1});
    auto p = out.point.index_select(0, rows);
    out.incumbent.index_copy_(
        0, rows,
        loss_at(kind, prior_weight, network.forward(p), z.index_select(0, rows),
                m.defined() ? m.index_select(0, rows) : m, p));
  }
  out.lower_bound = leaf;
  state_claims(out, options);
  return out;
}

Certificate join_parts(const std::vector<Certificate>& parts, const CertifyOptions& options) {
  require(!parts.empty(), "no part of the box to join");
  Certificate out = parts.front();
  out.incumbent = out.incumbent.clone();
  out.point = out.point.clone();
  out.lower_bound = out.lower_bound.clone();
  out.cells = out.cells.clone();
  out.improved = out.improved.clone();
  for (size_t k = 1; k < parts.size(); ++k) {
    const auto& p = parts[k];
    require(p.incumbent.sizes() == out.incumbent.sizes() && p.point.sizes() == out.point.sizes(),
            "the parts of a certificate are of other images");
    auto lower = p.incumbent < out.incumbent;  // a tie keeps the earlier part's point
    out.point = torch::where(lower.unsqueeze(1), p.point, out.point);
    out.incumbent = torch::where(lower, p.incumbent, out.incumbent);
    out.lower_bound = torch::minimum(out.lower_bound, p.lower_bound);
    out.cells += p.cells;
    out.improved.logical_or_(p.improved);
    out.levels = std::max(out.levels, p.levels);
    out.distinct_cells += p.distinct_cells;
    out.network_cells += p.network_cells;
    out.local_cells += p.local_cells;
  }
  state_claims(out, options);
  return out;
}

}  // namespace preimage::certify
