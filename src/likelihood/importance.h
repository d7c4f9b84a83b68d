#pragma once
// For latents too wide for the exact quadrature (L > 3): the importance-weighted bound of Burda,
// Grosse & Salakhutdinov (2016) with k samples from a Gaussian posterior q (the encoder's),
//   log p(x) >= IWAE_k(x) = log (1/k) sum_i p(x | y_i) p(y_i) / q(y_i | x),
// a lower bound in expectation that rises with k; and the mean of the same log-weights, a
// Monte Carlo ELBO. Any decoder (the Decoder interface), Bernoulli likelihood, standard normal
// prior. Seeded: the same figures each time.
#include <cstdint>

#include <torch/torch.h>

#include "decoders/decoder.h"
#include "likelihood/gaussian_posterior.h"

namespace preimage::likelihood {

struct ImportanceWeighted {
  torch::Tensor bound;  // (N) float64: IWAE_k
  torch::Tensor elbo;   // (N) float64: the mean log-weight (IWAE_1's estimate from the same k)
};

// Images (N, P) of 0/1; k samples per image from q, drawn from a generator seeded with `seed`;
// `batch` images at a time (k * batch decoder rows).
ImportanceWeighted importance_weighted(const decoders::Decoder& decoder, const torch::Tensor& images,
                                       const GaussianPosterior& q, int64_t k, uint64_t seed,
                                       int64_t batch = 16);

}  // namespace preimage::likelihood
