#include "certify/loss_bounds.h"

namespace preimage::certify {

namespace {
using solvers::LossKind;
namespace F = torch::nn::functional;

// d^2/dl^2 of sigma(l)^2 as a function of s = sigma(l): 2 s^2 (1 - s) (2 - 3 s); negative for
// s in (2/3, 1), least at s* (the root of 12 s^2 - 15 s + 4 above 1/2).
torch::Tensor psi(const torch::Tensor& s) { return 2 * s * s * (1 - s) * (2 - 3 * s); }
constexpr double kPsiArgmin = 0.86443685028;  // (15 + sqrt(33)) / 24
constexpr double kPsiMin = -0.12024446476;    // psi(kPsiArgmin), rounded down
// min(0, min over l in [lo, hi] of d^2/dl^2 sigma(l)^2): the curvature of the squared error of a
// pixel whose target is 0 (the target 1's is the same at -l).
torch::Tensor least_curvature(const torch::Tensor& lo, const torch::Tensor& hi) {
  auto slo = torch::sigmoid(lo), shi = torch::sigmoid(hi);
  auto m = torch::minimum(psi(slo), psi(shi));
  auto inside = slo.le(kPsiArgmin).logical_and(shi.ge(kPsiArgmin));
  return torch::where(inside, torch::full_like(m, kPsiMin), m).clamp_max(0);
}
}  // namespace

LossForms loss_forms(const CellBounds& bounds, LossKind kind, double prior_weight,
                     const torch::Tensor& centers, const torch::Tensor& half_widths) {
  torch::NoGradGuard no_grad;
  LossForms f;
  const auto& c = bounds.offset;   // (C, P)
  const auto& box = bounds.box;
  auto radius = bounds.radius();
  auto lo = c - radius, hi = c + radius;
  auto s = torch::sigmoid(c);
  // f' = a + b z at the centre; the generators' terms take it exactly.
  torch::Tensor slope0, slope1;
  if (kind == LossKind::kSquaredError) {
    auto sp = s * (1 - s);
    slope0 = 2 * sp * s;
    slope1 = -2 * sp;
    // f(c) = s^2 - 2 z s (+ z^2 in the offset); - |f'| box by its chord (|f'| is convex in z);
    // the curvature's least value by its chord (concave in z), times the largest u^2.
    auto curvature0 = least_curvature(lo, hi), curvature1 = least_curvature(-hi, -lo);
    auto u2 = radius.square() / 2;
    f.taylor0 = s.square() - slope0 * box + curvature0 * u2;
    f.taylor1 = -2 * s - (2 * sp * (1 - s) - slope0) * box + (curvature1 - curvature0) * u2;
    // min over the interval of s^2 - 2 z s by its chord: s(lo)^2 at 0, (1 - s(hi))^2 - 1 at 1.
    auto slo = torch::sigmoid(lo), shi = torch::sigmoid(hi);
    f.interval0 = slo.square();
    f.interval1 = (1 - shi).square() - 1 - f.interval0;
    auto s0 = torch::sigmoid(bounds.center_logits);
    f.center0 = s0.square();
    f.center1 = -2 * s0;
  } else {
    // softplus(l) - z l: convex in l (no curvature term); f' = s - z.
    slope0 = s;
    slope1 = -torch::ones_like(s);
    f.taylor0 = F::softplus(c) - s * box;
    f.taylor1 = -c - ((1 - s) - s) * box;
    f.interval0 = F::softplus(lo);
    f.interval1 = F::softplus(-hi) - f.interval0;
    f.center0 = F::softplus(bounds.center_logits);
    f.center1 = -bounds.center_logits;
  }
  f.gen0 = bounds.generators * slope0.unsqueeze(1);
  f.gen1 = bounds.generators * slope1.unsqueeze(1);
  auto nearest = (centers.abs() - half_widths).clamp_min(0);
  f.prior_lower = nearest.square().sum(1) * prior_weight;
  f.prior_center = centers.square().sum(1) * prior_weight;
  return f;
}

PairBounds evaluate(const LossForms& forms, const torch::Tensor& weighted,
                    const torch::Tensor& mask, const torch::Tensor& offset) {
  torch::NoGradGuard no_grad;
  const int64_t C = forms.taylor0.size(0), P = forms.taylor0.size(1);
  const int64_t G = forms.gen0.size(1), B = weighted.size(0);
  // Columns per cell: taylor, interval, centre, then the G generators.
  auto stack = [&](const torch::Tensor& t, const torch::Tensor& i, const torch::Tensor& ce,
                   const torch::Tensor& g) {
    return torch::cat({t.unsqueeze(1), i.unsqueeze(1), ce.unsqueeze(1), g}, 1)
        .view({C * (3 + G), P});
  };
  auto form1 = stack(forms.taylor1, forms.interval1, forms.center1, forms.gen1);
  auto form0 = stack(forms.taylor0, forms.interval0, forms.center0, forms.gen0);
  auto v = weighted.mm(form1.t());  // (B, C * (3 + G))
  if (mask.defined())
    v.add_(mask.mm(form0.t()));
  else
    v.add_(form0.sum(1).unsqueeze(0));
  v = v.view({B, C, 3 + G});
  auto taylor = v.select(2, 0) - v.slice(2, 3).abs().sum(2);
  auto lower = torch::maximum(taylor, v.select(2, 1)) + offset.unsqueeze(1) +
               forms.prior_lower.unsqueeze(0);
  lower -= (lower.abs() + 1) * kSumRoundingMargin;
  PairBounds out;
  out.lower = lower;
  out.center = v.select(2, 2) + offset.unsqueeze(1) + forms.prior_center.unsqueeze(0);
  return out;
}

torch::Tensor image_offset(LossKind kind, const torch::Tensor& targets, const torch::Tensor& mask) {
  if (kind == LossKind::kBernoulli) return torch::zeros({targets.size(0)}, targets.options());
  auto sq = targets.square();
  return (mask.defined() ? sq * mask : sq).sum(1);
}

torch::Tensor loss_at(LossKind kind, double prior_weight, const torch::Tensor& logits,
                      const torch::Tensor& targets, const torch::Tensor& mask,
                      const torch::Tensor& latents) {
  torch::NoGradGuard no_grad;
  torch::Tensor per_pixel =
      kind == LossKind::kSquaredError
          ? (targets - torch::sigmoid(logits)).square()
          : F::softplus(logits) - targets * logits;
  if (mask.defined()) per_pixel = per_pixel * mask;
  return per_pixel.sum(1) + latents.square().sum(1) * prior_weight;
}

}  // namespace preimage::certify
