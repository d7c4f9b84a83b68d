#include "solvers/loss.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/error.h"

namespace preimage::solvers {

LossKind parse_loss_kind(const std::string& name) {
  if (name == "squared-error") return LossKind::kSquaredError;
  if (name == "bernoulli") return LossKind::kBernoulli;
  throw UserError(fmt::format("unknown loss '{}'", name),
                  fmt::format("use one of: {}", fmt::join(loss_kind_names(), ", ")));
}

std::string loss_kind_name(LossKind kind) {
  return kind == LossKind::kSquaredError ? "squared-error" : "bernoulli";
}

std::vector<std::string> loss_kind_names() { return {"squared-error", "bernoulli"}; }

PixelLoss pixel_loss(LossKind kind, const torch::Tensor& logits, const torch::Tensor& targets,
                     const torch::Tensor& mask, bool need_grad, bool need_curvature) {
  torch::NoGradGuard no_grad;
  PixelLoss out;
  const bool masked = mask.defined();
  auto s = torch::sigmoid(logits);
  if (kind == LossKind::kSquaredError) {
    auto r = s - targets;                                 // residual (B, P)
    auto slope = need_grad || need_curvature ? s * (1 - s) : torch::Tensor();  // dsigmoid
    if (masked) r.mul_(mask);
    out.value = r.square().sum(1);
    if (need_grad) out.g_logits = 2 * r * slope;
    // Gauss-Newton: J^T J of the residual s(logit): 2 s'^2 per pixel.
    if (need_curvature) {
      out.curvature = 2 * slope.square();
      if (masked) out.curvature.mul_(mask);
    }
  } else {
    auto bce = torch::binary_cross_entropy_with_logits(logits, targets, {}, {},
                                                       at::Reduction::None);
    if (masked) bce.mul_(mask);
    out.value = bce.sum(1);
    if (need_grad) {
      out.g_logits = s - targets;
      if (masked) out.g_logits.mul_(mask);
    }
    // Fisher / generalized Gauss-Newton weight of the Bernoulli likelihood: s (1 - s).
    if (need_curvature) {
      out.curvature = s * (1 - s);
      if (masked) out.curvature.mul_(mask);
    }
  }
  return out;
}

void check_loss_spec(const LossSpec& loss) {
  require(std::isfinite(loss.prior_weight) && loss.prior_weight >= 0,
          fmt::format("--prior-weight must be zero or a positive number, got {}", loss.prior_weight),
          "lambda of the prior term lambda*|y|^2; 0: none");
  if (loss.mask.defined())
    require(((loss.mask == 0) | (loss.mask == 1)).all().item<bool>(),
            "the pixel mask must hold only 0 (unknown) and 1 (known)");
}

}  // namespace preimage::solvers
