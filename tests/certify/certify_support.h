#pragma once
// Shared by the certificate's tests: random cells, images and masks, and the loss of many images
// at many latent points by brute force (matrix products, float64).
#include <torch/torch.h>

#include "certify/cell_bounds.h"
#include "certify/loss_bounds.h"

namespace preimage::test_support {

inline torch::TensorOptions f64() { return torch::TensorOptions().dtype(torch::kFloat64); }

// `B` images of `P` pixels: binary when `grey` is false, else uniform in [0, 1].
inline torch::Tensor random_images(int64_t B, int64_t P, bool grey) {
  auto u = torch::rand({B, P}, f64());
  return grey ? u : (u > 0.5).to(torch::kFloat64);
}

// The loss of every image at every point: (B, N), by matrix products over the pixels.
inline torch::Tensor brute_force_losses(const certify::DenseNetwork& net, solvers::LossKind kind,
                                        double prior_weight, const torch::Tensor& targets,
                                        const torch::Tensor& mask, const torch::Tensor& points) {
  torch::NoGradGuard no_grad;
  auto m = mask.defined() ? mask.expand_as(targets) : torch::ones_like(targets);
  auto logits = net.forward(points);  // (N, P)
  torch::Tensor loss;
  if (kind == solvers::LossKind::kSquaredError) {
    auto s = torch::sigmoid(logits);
    loss = m.mm(s.square().t()) - 2 * (m * targets).mm(s.t()) +
           (m * targets.square()).sum(1, true);
  } else {
    loss = m.mm(torch::nn::functional::softplus(logits).t()) - (m * targets).mm(logits.t());
  }
  return loss + prior_weight * points.square().sum(1).unsqueeze(0);
}

}  // namespace preimage::test_support
