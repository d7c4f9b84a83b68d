#include "solvers/objective.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "util/error.h"

namespace preimage::solvers {
namespace {

// Per image, J^T g (B, L) and J^T diag(c) J (B, L, L) from the Jacobian J (B, L, P), in one pass
// over the pixels (a batched matrix product loops over the images on the CPU; reductions over a
// (B, L, L, P) product make and read a temporary L^2 times the Jacobian's size).
template <typename T>
void jacobian_products_rows(const torch::Tensor& J, const torch::Tensor& g, const torch::Tensor& c,
                            torch::Tensor& grad, torch::Tensor& gn) {
  const int64_t B = J.size(0), L = J.size(1), P = J.size(2);
  const T* j = J.data_ptr<T>();
  const T* gp = g.defined() ? g.data_ptr<T>() : nullptr;
  const T* cp = c.defined() ? c.data_ptr<T>() : nullptr;
  T* out_g = grad.defined() ? grad.data_ptr<T>() : nullptr;
  T* out_h = gn.defined() ? gn.data_ptr<T>() : nullptr;
  std::vector<double> sg(static_cast<size_t>(L)), sh(static_cast<size_t>(L * L));
  for (int64_t b = 0; b < B; ++b) {
    const T* jb = j + b * L * P;
    std::fill(sg.begin(), sg.end(), 0.0);
    std::fill(sh.begin(), sh.end(), 0.0);
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t i = 0; i < L; ++i) {
        const T ji = jb[i * P + p];
        if (gp) sg[static_cast<size_t>(i)] += static_cast<double>(ji * gp[b * P + p]);
        if (cp) {
          const T cji = cp[b * P + p] * ji;
          for (int64_t k = 0; k <= i; ++k)
            sh[static_cast<size_t>(i * L + k)] += static_cast<double>(cji * jb[k * P + p]);
        }
      }
    }
    for (int64_t i = 0; i < L; ++i) {
      if (out_g) out_g[b * L + i] = static_cast<T>(sg[static_cast<size_t>(i)]);
      if (out_h)
        for (int64_t k = 0; k <= i; ++k)
          out_h[(b * L + i) * L + k] = out_h[(b * L + k) * L + i] =
              static_cast<T>(sh[static_cast<size_t>(i * L + k)]);
    }
  }
}

// (J^T g, J^T diag(c) J); either of g, c may be undefined (its product is then undefined).
std::pair<torch::Tensor, torch::Tensor> jacobian_products(const torch::Tensor& J_in,
                                                          const torch::Tensor& g_in,
                                                          const torch::Tensor& c_in) {
  const auto J = J_in.contiguous();
  const int64_t B = J.size(0), L = J.size(1);
  torch::Tensor g = g_in.defined() ? g_in.contiguous() : g_in;
  torch::Tensor c = c_in.defined() ? c_in.contiguous() : c_in;
  torch::Tensor grad = g.defined() ? torch::empty({B, L}, J.options()) : torch::Tensor();
  torch::Tensor gn = c.defined() ? torch::empty({B, L, L}, J.options()) : torch::Tensor();
  AT_DISPATCH_FLOATING_TYPES(J.scalar_type(), "jacobian_products",
                             [&] { jacobian_products_rows<scalar_t>(J, g, c, grad, gn); });
  return {grad, gn};
}

}  // namespace

Objective::Objective(const decoders::Decoder& decoder, const LossSpec& loss, torch::Tensor targets)
    : decoder_(&decoder), loss_(loss), targets_(std::move(targets)) {
  require(targets_.dim() == 2 && targets_.size(1) == decoder.pixels(),
          fmt::format("targets have shape {}, the decoder makes images of {} pixels",
                      fmt::streamed(targets_.sizes()), decoder.pixels()));
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
    e.value = value_from_logits(y, decoder_->forward(y));
    return e;
  }
  return evaluate(decode(y), need_grad, need_gauss_newton);
}

DecodedPoints DecodedPoints::select(const torch::Tensor& rows) const {
  DecodedPoints out;
  out.y = y.index_select(0, rows);
  out.logits = logits.index_select(0, rows);
  out.trace = trace.select(rows);
  return out;
}

DecodedPoints DecodedPoints::where(const torch::Tensor& take_a, const DecodedPoints& a,
                                   const DecodedPoints& b) {
  const auto rows = take_a.unsqueeze(1);
  DecodedPoints out;
  out.y = torch::where(rows, a.y, b.y);
  out.logits = torch::where(rows, a.logits, b.logits);
  out.trace = decoders::Trace::where(take_a, a.trace, b.trace);
  return out;
}

DecodedPoints Objective::decode(const torch::Tensor& y) const {
  torch::NoGradGuard no_grad;
  DecodedPoints p;
  p.y = y;
  p.logits = decoder_->forward(y, &p.trace);
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
    J = jacobian.defined() ? jacobian : decoder_->jacobian(points.trace);  // (B, L, P)
    e.jacobian = J;
    std::tie(e.grad, e.gn) = jacobian_products(J, pl.g_logits, pl.curvature);
    if (loss_.prior_weight > 0)
      e.gn.add_(torch::eye(y.size(1), y.options()).unsqueeze(0), 2 * loss_.prior_weight);
  }
  if (need_grad || need_gauss_newton) {
    // g = J^T dloss/dlogits: from the Jacobian when it is there, else one backward pass.
    if (!J.defined()) e.grad = decoder_->backward(points.trace, pl.g_logits);
    if (J.defined() && stale.defined()) {
      const auto rows = stale.nonzero().view({-1});
      if (rows.numel() > 0)
        e.grad.index_copy_(0, rows, decoder_->backward(points.select(rows).trace,
                                                      pl.g_logits.index_select(0, rows)));
    }
    if (loss_.prior_weight > 0) e.grad.add_(y, 2 * loss_.prior_weight);
  }
  return e;
}

Objective Objective::restrict_to(const torch::Tensor& rows) const {
  LossSpec loss = loss_;
  if (loss.mask.defined()) loss.mask = loss.mask.index_select(0, rows);
  Objective sub(*decoder_, loss, targets_.index_select(0, rows));
  sub.encoder_ = encoder_;
  return sub;
}

}  // namespace preimage::solvers
