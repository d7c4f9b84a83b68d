#include "solvers/objective.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "util/error.h"

namespace preimage::solvers {

Objective::Objective(const DecoderEngine& engine, const LossSpec& loss, torch::Tensor targets)
    : engine_(&engine), loss_(loss), targets_(std::move(targets)) {
  require(targets_.dim() == 2 && targets_.size(1) == engine.pixels(),
          fmt::format("targets have shape {}, the decoder makes images of {} pixels",
                      fmt::streamed(targets_.sizes()), engine.pixels()));
  if (loss_.mask.defined() && loss_.mask.dim() == 1)
    loss_.mask = loss_.mask.unsqueeze(0).expand_as(targets_);
}

torch::Tensor Objective::with_prior(const torch::Tensor& data_term, const torch::Tensor& y) const {
  if (loss_.prior_weight <= 0) return data_term;
  return data_term + loss_.prior_weight * y.square().sum(1);
}

torch::Tensor Objective::value(const torch::Tensor& y) const { return evaluate(y, false).value; }

torch::Tensor Objective::value_from_logits(const torch::Tensor& y,
                                           const torch::Tensor& logits) const {
  return with_prior(pixel_loss(loss_.kind, logits, targets_, loss_.mask, false, false).value, y);
}

Evaluation Objective::evaluate(const torch::Tensor& y, bool need_grad,
                               bool need_gauss_newton) const {
  torch::NoGradGuard no_grad;
  if (!need_grad && !need_gauss_newton) {
    Evaluation e;
    e.value = value_from_logits(y, engine_->forward(y));
    return e;
  }
  return evaluate(decode(y), need_grad, need_gauss_newton);
}

DecodedPoints DecodedPoints::select(const torch::Tensor& rows) const {
  DecodedPoints out;
  out.y = y.index_select(0, rows);
  out.logits = logits.index_select(0, rows);
  for (const auto& h : trace.hidden) out.trace.hidden.push_back(h.index_select(0, rows));
  return out;
}

DecodedPoints DecodedPoints::where(const torch::Tensor& take_a, const DecodedPoints& a,
                                   const DecodedPoints& b) {
  const auto rows = take_a.unsqueeze(1);
  DecodedPoints out;
  out.y = torch::where(rows, a.y, b.y);
  out.logits = torch::where(rows, a.logits, b.logits);
  for (size_t i = 0; i < a.trace.hidden.size(); ++i)
    out.trace.hidden.push_back(torch::where(rows, a.trace.hidden[i], b.trace.hidden[i]));
  return out;
}

DecodedPoints Objective::decode(const torch::Tensor& y) const {
  torch::NoGradGuard no_grad;
  DecodedPoints p;
  p.y = y;
  p.logits = engine_->forward(y, &p.trace);
  return p;
}

torch::Tensor Objective::value(const DecodedPoints& points) const {
  return value_from_logits(points.y, points.logits);
}

Evaluation Objective::evaluate(const DecodedPoints& points, bool need_grad,
                               bool need_gauss_newton, const torch::Tensor& jacobian,
                               const torch::Tensor& stale) const {
  torch::NoGradGuard no_grad;
  const auto& y = points.y;
  auto pl = pixel_loss(loss_.kind, points.logits, targets_, loss_.mask, need_grad || need_gauss_newton,
                       need_gauss_newton);
  Evaluation e;
  e.value = with_prior(pl.value, y);
  torch::Tensor J;
  if (need_gauss_newton) {
    J = jacobian.defined() ? jacobian : engine_->jacobian(points.trace);  // (B, L, P)
    e.jacobian = J;
    // J W J^T per image as reductions over pixels: a batched product of (L, P) matrices loops
    // over the images on the CPU, slower than the Jacobian itself.
    auto weighted = J * pl.curvature.unsqueeze(1);                  // (B, L, P)
    e.gn = (J.unsqueeze(1) * weighted.unsqueeze(2)).sum(-1);        // (B, L, L)
    if (loss_.prior_weight > 0)
      e.gn.add_(torch::eye(y.size(1), y.options()).unsqueeze(0), 2 * loss_.prior_weight);
  }
  if (need_grad || need_gauss_newton) {
    // g = J^T dloss/dlogits: from the Jacobian when it is there, else one backward pass.
    e.grad = J.defined() ? (J * pl.g_logits.unsqueeze(1)).sum(-1)
                         : engine_->backward(points.trace, pl.g_logits);
    if (J.defined() && stale.defined()) {
      const auto rows = stale.nonzero().view({-1});
      if (rows.numel() > 0)
        e.grad.index_copy_(0, rows, engine_->backward(points.select(rows).trace,
                                                      pl.g_logits.index_select(0, rows)));
    }
    if (loss_.prior_weight > 0) e.grad.add_(y, 2 * loss_.prior_weight);
  }
  return e;
}

Objective Objective::restrict_to(const torch::Tensor& rows) const {
  LossSpec loss = loss_;
  if (loss.mask.defined()) loss.mask = loss.mask.index_select(0, rows);
  Objective sub(*engine_, loss, targets_.index_select(0, rows));
  sub.encoder_ = encoder_;
  return sub;
}

}  // namespace preimage::solvers
