#pragma once
// The exact log-likelihood of binary images under a decoder with a 2-D latent (or any L <= 3)
// and a standard normal prior, by quadrature over the latent box [-R, R]^L:
//   log p(x) = log sum_g w_g p(x | g) p(g),   log p(x | g) = x . l_g - sum_p softplus(l_g,p)
// (Bernoulli likelihood of the logits l_g = D(g)), with the trapezoidal rule's weights w_g on a
// grid of n points per axis. log p(x | g) is linear in x, so all images against a chunk of the
// grid is one matrix product; the grid is decoded chunk by chunk by solvers::DecodedGrid (the
// grid search's home of the decoded plane) and never held whole.
#include <string>

#include <torch/torch.h>

#include "decoders/decoder.h"

namespace preimage::likelihood {

// What p(x | y) is: Bernoulli on the decoder's logits (binary images, the VAE's), or Gaussian
// N(x; D(y), sigma^2 I) with a fixed sigma (the closed-form check; grey images).
struct Observation {
  enum Kind { kBernoulli, kGaussian } kind = kBernoulli;
  double sigma = 1.0;  // kGaussian only
};

struct QuadratureSettings {
  int64_t points = 801;   // grid points per axis, odd (h = 2R / (n - 1) = 0.015 for the defaults)
  double radius = 6.0;    // the box [-R, R]^L; the prior's mass outside it is below 2e-8 (L=2)
  int64_t batch = 2048;   // images per block of the matrix product
  Observation observation;
  // UserError unless points is odd in 3..100001 and radius a positive finite number.
  void check() const;
  double spacing() const { return 2 * radius / static_cast<double>(points - 1); }
};

struct ExactLikelihood {
  torch::Tensor log_px;          // (N) float64: log p(x), nats
  torch::Tensor log_px_coarse;   // (N) float64: the same on every other point (spacing 2h), in
                                 // the same pass: the change shows the rule has converged
  torch::Tensor posterior_mean;  // (N, L) float64: E[y | x] under the exact posterior
  torch::Tensor posterior_var;   // (N, L) float64: Var[y_k | x]
  torch::Tensor mode;            // (N, L) float32: the grid point of highest p(x | g) p(g)
  torch::Tensor mode_log_joint;  // (N) float64: log p(x | mode) + log p(mode)
  torch::Tensor edge_mass;       // (N) float64: posterior mass in the box's outer tenth
};

// Throws UserError unless `images` (N, P) hold only 0 and 1 and P is the decoder's, naming `what`.
void require_binary_images(const torch::Tensor& images, int64_t pixels, const std::string& what);

// log p(x | y) + log p(y) of images (N, P) at latents `y` (N, L): the Bernoulli log-likelihood of
// D(y) plus the standard normal log-density, float64 (N), decoded `batch` rows at a time.
torch::Tensor log_joint(const decoders::Decoder& decoder, const torch::Tensor& images,
                        const torch::Tensor& y, int64_t batch = 4096);

// Images (N, P) of 0/1 values (UserError otherwise, naming `what`), decoder of any L <= 3
// (UserError beyond: the grid would have n^L points).
ExactLikelihood exact_log_likelihood(const decoders::Decoder& decoder, const torch::Tensor& images,
                                     const QuadratureSettings& settings,
                                     const std::string& what = "the images");

}  // namespace preimage::likelihood
