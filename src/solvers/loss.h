#pragma once
// The inversion objective per image, as a function of the decoder's logits:
//   squared-error: sum_p m_p (z_p - sigmoid(logit_p))^2    (the thesis, section 2.3)
//   bernoulli:     sum_p m_p BCE(logit_p, z_p)            (the VAE's own likelihood)
// plus an optional prior term lambda ||y||^2 (with bernoulli, the VAE's MAP objective).
// m is a pixel mask (1 = known pixel), for completing partial images.
#include <string>
#include <vector>

#include <torch/torch.h>

namespace preimage::solvers {

enum class LossKind { kSquaredError, kBernoulli };

LossKind parse_loss_kind(const std::string& name);  // "squared-error" | "bernoulli"
std::string loss_kind_name(LossKind kind);
std::vector<std::string> loss_kind_names();

struct LossSpec {
  LossKind kind = LossKind::kSquaredError;
  double prior_weight = 0.0;  // lambda of the prior term lambda ||y||^2; 0 = none
  torch::Tensor mask;         // (B, P) or (P) of 0/1 floats; undefined = every pixel counts
};

// Throws UserError unless the prior weight is a finite number >= 0 (and a mask, if given, holds
// only 0 and 1).
void check_loss_spec(const LossSpec& loss);

struct PixelLoss {
  torch::Tensor value;     // (B) data term of each image (no prior)
  torch::Tensor g_logits;  // (B, P) its gradient with respect to the logits (if asked)
  torch::Tensor curvature; // (B, P) Gauss-Newton weight d2/dlogit2 of the data term (if asked)
};

// Evaluates the data term for `logits` against `targets` (both (B, P)).
// `mask` is the (possibly sliced) mask of these rows, or undefined.
PixelLoss pixel_loss(LossKind kind, const torch::Tensor& logits, const torch::Tensor& targets,
                     const torch::Tensor& mask, bool need_grad, bool need_curvature);

}  // namespace preimage::solvers
