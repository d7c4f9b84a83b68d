#pragma once
// Expectations under a standard normal by the Gauss-Hermite product rule: E[f(e)] ~ sum_k w_k
// f(e_k), exact for polynomials of degree < 2n in each coordinate. The nodes come from the
// Golub-Welsch eigenproblem of Hermite's three-term recurrence.
#include <torch/torch.h>

namespace preimage::likelihood {

struct NormalRule {
  torch::Tensor nodes;    // (K, L) float32, K = n^L: points e_k for a standard normal in L dims
  torch::Tensor weights;  // (K) float64, summing to 1
};

// The product rule of `n` nodes per axis in `latent_dim` dimensions (n^L <= 10^6).
NormalRule normal_rule(int64_t n, int64_t latent_dim);

}  // namespace preimage::likelihood
