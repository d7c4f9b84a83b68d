#include "train/elbo.h"

#include <cmath>

namespace preimage::train {

torch::Tensor log_normal_pdf(const torch::Tensor& sample, const torch::Tensor& mean,
                             const torch::Tensor& logvar) {
  const double log2pi = std::log(2.0 * M_PI);
  return (-0.5 * ((sample - mean).pow(2) * torch::exp(-logvar) + logvar + log2pi)).sum(1);
}

torch::Tensor negative_elbo(const model::VaeOutput& out, const torch::Tensor& images) {
  // sigmoid cross-entropy with logits, summed over pixels: -log p(x|z).
  auto cross_entropy = torch::binary_cross_entropy_with_logits(
      out.logits, images, /*weight=*/{}, /*pos_weight=*/{}, at::Reduction::None);
  auto logpx_z = -cross_entropy.sum(1);
  auto logpz = log_normal_pdf(out.z, torch::zeros_like(out.z), torch::zeros_like(out.z));
  auto logqz_x = log_normal_pdf(out.z, out.mean, out.logvar);
  return -(logpx_z + logpz - logqz_x);
}

}  // namespace preimage::train
