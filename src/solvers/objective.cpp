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

torch::Tensor Objective::value(const torch::Tensor& y) const { return evaluate(y, false).value; }

torch::Tensor Objective::value_from_logits(const torch::Tensor& y,
                                           const torch::Tensor& logits) const {
  auto v = pixel_loss(loss_.kind, logits, targets_, loss_.mask, false, false).value;
  if (loss_.prior_weight > 0) v = v + loss_.prior_weight * y.square().sum(1);
  return v;
}

Evaluation Objective::evaluate(const torch::Tensor& y, bool need_grad,
                               bool need_gauss_newton) const {
  torch::NoGradGuard no_grad;
  Trace trace;
  const bool need_trace = need_grad || need_gauss_newton;
  auto logits = engine_->forward(y, need_trace ? &trace : nullptr);
  auto pl = pixel_loss(loss_.kind, logits, targets_, loss_.mask, need_grad, need_gauss_newton);
  Evaluation e;
  e.value = pl.value;
  if (loss_.prior_weight > 0) e.value = e.value + loss_.prior_weight * y.square().sum(1);
  if (need_grad) {
    e.grad = engine_->backward(trace, pl.g_logits);
    if (loss_.prior_weight > 0) e.grad.add_(y, 2 * loss_.prior_weight);
  }
  if (need_gauss_newton) {
    auto J = engine_->jacobian(trace);                             // (B, P, L)
    e.gn = torch::bmm(J.transpose(1, 2), J * pl.curvature.unsqueeze(2));  // (B, L, L)
    if (loss_.prior_weight > 0)
      e.gn.add_(torch::eye(y.size(1), y.options()).unsqueeze(0), 2 * loss_.prior_weight);
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
