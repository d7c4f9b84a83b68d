#pragma once
// Diagonal Gaussian posteriors q(y | x) = N(mean, exp(logvar)) and their ELBO,
//   ELBO(q) = E_q[log p(x | y)] - KL(q || N(0, I))  <=  log p(x),
// with the reconstruction term by a Gauss-Hermite product rule (deterministic: the same figure
// each time) and the KL term in closed form. Two posteriors per image matter (Cremer et al.
// 2018, "Inference suboptimality in VAEs"): the encoder's, and the best Gaussian for that image
// (its mean and log-variance optimized per image, batched). Their ELBOs split the distance to
// log p(x) into the amortization gap (what the encoder loses against the best Gaussian) and the
// approximation gap (what a Gaussian loses against the true posterior).
#include <torch/torch.h>

#include "decoders/decoder.h"

namespace preimage::likelihood {

struct GaussianPosterior {
  torch::Tensor mean;    // (N, L)
  torch::Tensor logvar;  // (N, L)
};

// ELBO (N) float64 of images (N, P, 0/1) under `q`, the reconstruction term by the product rule
// of `nodes` per axis (nodes^L points per image), `batch` images at a time.
torch::Tensor gaussian_elbo(const decoders::Decoder& decoder, const torch::Tensor& images,
                            const GaussianPosterior& q, int64_t nodes = 10, int64_t batch = 64);

struct OptimalPosteriorSettings {
  int64_t steps = 100;           // Adam steps
  double learning_rate = 0.05;   // in units of the start's standard deviation
  int64_t nodes = 5;             // Gauss-Hermite nodes per axis while optimizing
  int64_t batch = 256;           // images optimized together
  void check() const;            // UserError on values out of range
};

// The best diagonal Gaussian per image by Adam on the ELBO from `start`, in whitened coordinates
// (mean = m0 + s0 a, log-variance = v0 + 2 b): gradients through the decoder's vector-Jacobian
// product at the rule's nodes. Each image keeps the best iterate it met.
GaussianPosterior optimal_gaussian_posterior(const decoders::Decoder& decoder,
                                             const torch::Tensor& images,
                                             const GaussianPosterior& start,
                                             const OptimalPosteriorSettings& settings);

}  // namespace preimage::likelihood
