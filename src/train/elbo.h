#pragma once
// The TensorFlow CVAE tutorial's loss: the negative ELBO estimated with one Monte Carlo sample,
//   -E[ log p(x|z) + log p(z) - log q(z|x) ],
// with a Bernoulli likelihood on the decoder's logits and a standard normal prior.
#include <torch/torch.h>

#include "model/vae.h"

namespace preimage::train {

// log N(sample; mean, exp(logvar)) summed over the latent dimensions: (B, L) -> (B).
torch::Tensor log_normal_pdf(const torch::Tensor& sample, const torch::Tensor& mean,
                             const torch::Tensor& logvar);

// Per-image negative ELBO (B) of one forward pass (one sample z per image).
torch::Tensor negative_elbo(const model::VaeOutput& out, const torch::Tensor& images);

}  // namespace preimage::train
