#include "likelihood/importance.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "util/error.h"

namespace preimage::likelihood {

ImportanceWeighted importance_weighted(const decoders::Decoder& decoder, const torch::Tensor& images,
                                       const GaussianPosterior& q, int64_t k, uint64_t seed,
                                       int64_t batch) {
  torch::NoGradGuard no_grad;
  require(k >= 1 && k <= 100000, fmt::format("--iwae-samples must be 1..100000, got {}", k));
  const int64_t n = images.size(0), L = decoder.latent_dim();
  const double log2pi = std::log(2 * M_PI);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto opts = torch::TensorOptions().device(decoder.device()).dtype(decoder.dtype());
  ImportanceWeighted out{torch::empty({n}, torch::kFloat64), torch::empty({n}, torch::kFloat64)};
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch), B = b1 - b0;
    auto eps = torch::randn({B, k, L}, generator, torch::kFloat32).to(opts);  // on the CPU first
    auto mean = q.mean.slice(0, b0, b1).to(opts).unsqueeze(1);
    auto logvar = q.logvar.slice(0, b0, b1).to(opts).unsqueeze(1);
    auto y = mean + (0.5 * logvar).exp() * eps;  // (B, k, L)
    auto logits = decoder.forward(y.reshape({B * k, L}));
    auto x = images.slice(0, b0, b1).to(opts).repeat_interleave(k, 0);
    auto log_px_y = (x * logits - torch::nn::functional::softplus(logits)).sum(1).view({B, k});
    auto log_py = -0.5 * (y.square().sum(2) + static_cast<double>(L) * log2pi);
    auto log_qy = -0.5 * (eps.square() + logvar + log2pi).sum(2);
    auto log_w = (log_px_y + log_py - log_qy).to(torch::kFloat64).cpu();  // (B, k)
    out.bound.slice(0, b0, b1).copy_(torch::logsumexp(log_w, 1) - std::log(static_cast<double>(k)));
    out.elbo.slice(0, b0, b1).copy_(log_w.mean(1));
  }
  return out;
}

}  // namespace preimage::likelihood
