#include "likelihood/gaussian_posterior.h"

#include <cmath>

#include <fmt/format.h>

#include "likelihood/gauss_hermite.h"
#include "util/error.h"

namespace preimage::likelihood {
namespace {
constexpr double kMinLogvar = -30, kMaxLogvar = 10;  // keeps exp(logvar) finite in float32

struct BlockElbo {
  torch::Tensor value;        // (B) float64
  torch::Tensor grad_mean;    // (B, L), when asked
  torch::Tensor grad_logvar;  // (B, L), when asked
};

// The ELBO of a block of images x (B, P) under N(mean, exp(logvar)), and its gradient.
BlockElbo block_elbo(const decoders::Decoder& decoder, const torch::Tensor& x,
                     const torch::Tensor& mean, const torch::Tensor& logvar,
                     const NormalRule& rule, bool need_grad) {
  const int64_t B = x.size(0), L = mean.size(1), K = rule.nodes.size(0);
  auto nodes = rule.nodes.to(mean.options());
  auto std = (0.5 * logvar).exp();
  auto y = (mean.unsqueeze(1) + std.unsqueeze(1) * nodes.unsqueeze(0)).reshape({B * K, L});
  decoders::Trace trace;
  auto logits = decoder.forward(y, need_grad ? &trace : nullptr);
  auto xr = x.repeat_interleave(K, 0);
  auto ll = (xr * logits - torch::nn::functional::softplus(logits)).sum(1).view({B, K});
  auto w = rule.weights.to(x.device());
  auto expected = (ll.to(torch::kFloat64) * w.unsqueeze(0)).sum(1);
  auto var = logvar.exp();
  auto kl = 0.5 * (mean.square() + var - 1 - logvar).sum(1).to(torch::kFloat64);
  BlockElbo out{(expected - kl).cpu(), {}, {}};
  if (!need_grad) return out;
  auto wf = w.to(logits.scalar_type()).repeat({B}).unsqueeze(1);  // (B K, 1)
  auto g_logits = (xr - logits.sigmoid()).mul_(wf);
  auto gy = decoder.backward(trace, g_logits).view({B, K, L});
  out.grad_mean = gy.sum(1) - mean;
  out.grad_logvar = (gy * nodes.unsqueeze(0)).sum(1) * std * 0.5 - 0.5 * (var - 1);
  return out;
}
}  // namespace

void OptimalPosteriorSettings::check() const {
  require(steps >= 0 && steps <= 100000,
          fmt::format("--posterior-steps must be 0..100000, got {}", steps));
  require(std::isfinite(learning_rate) && learning_rate > 0,
          fmt::format("--posterior-lr must be a positive number, got {}", learning_rate));
  require(nodes >= 1 && nodes <= 64, fmt::format("--posterior-nodes must be 1..64, got {}", nodes));
  require(batch > 0, fmt::format("the posterior batch must be positive, got {}", batch));
}

torch::Tensor gaussian_elbo(const decoders::Decoder& decoder, const torch::Tensor& images,
                            const GaussianPosterior& q, int64_t nodes, int64_t batch) {
  torch::NoGradGuard no_grad;
  const auto rule = normal_rule(nodes, decoder.latent_dim());
  const int64_t n = images.size(0);
  auto out = torch::empty({n}, torch::kFloat64);
  auto opts = torch::TensorOptions().device(decoder.device()).dtype(decoder.dtype());
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    auto value = block_elbo(decoder, images.slice(0, b0, b1).to(opts),
                            q.mean.slice(0, b0, b1).to(opts),
                            q.logvar.slice(0, b0, b1).to(opts), rule, false)
                     .value;
    out.slice(0, b0, b1).copy_(value);
  }
  return out;
}

GaussianPosterior optimal_gaussian_posterior(const decoders::Decoder& decoder,
                                             const torch::Tensor& images,
                                             const GaussianPosterior& start,
                                             const OptimalPosteriorSettings& settings) {
  torch::NoGradGuard no_grad;
  settings.check();
  const auto rule = normal_rule(settings.nodes, decoder.latent_dim());
  const int64_t n = images.size(0);
  auto opts = torch::TensorOptions().device(decoder.device()).dtype(decoder.dtype());
  GaussianPosterior best{torch::empty_like(start.mean, torch::kFloat32),
                         torch::empty_like(start.logvar, torch::kFloat32)};
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (int64_t r0 = 0; r0 < n; r0 += settings.batch) {
    const int64_t r1 = std::min(n, r0 + settings.batch);
    auto x = images.slice(0, r0, r1).to(opts);
    auto m0 = start.mean.slice(0, r0, r1).to(opts);
    auto v0 = start.logvar.slice(0, r0, r1).to(opts).clamp(kMinLogvar, kMaxLogvar);
    auto s0 = (0.5 * v0).exp();
    auto a = torch::zeros_like(m0), b = torch::zeros_like(m0);
    auto ma = torch::zeros_like(a), va = torch::zeros_like(a);
    auto mb = torch::zeros_like(b), vb = torch::zeros_like(b);
    auto best_mean = m0.clone(), best_logvar = v0.clone();
    auto best_value = torch::full({r1 - r0}, -INFINITY, torch::kFloat64);
    for (int64_t step = 0; step <= settings.steps; ++step) {
      auto mean = m0 + s0 * a;
      auto logvar = (v0 + 2 * b).clamp(kMinLogvar, kMaxLogvar);
      auto e = block_elbo(decoder, x, mean, logvar, rule, step < settings.steps);
      auto better = (e.value > best_value).to(mean.device());
      best_value = torch::maximum(best_value, e.value);
      best_mean = torch::where(better.unsqueeze(1), mean, best_mean);
      best_logvar = torch::where(better.unsqueeze(1), logvar, best_logvar);
      if (step == settings.steps) break;
      // Adam ascent on (a, b): d/da = s0 dE/dmean, d/db = 2 dE/dlogvar.
      auto ga = e.grad_mean * s0, gb = 2 * e.grad_logvar;
      const double t = static_cast<double>(step + 1);
      const double alpha = settings.learning_rate * std::sqrt(1 - std::pow(b2, t)) /
                           (1 - std::pow(b1, t));
      ma.mul_(b1).add_(ga, 1 - b1);
      va.mul_(b2).addcmul_(ga, ga, 1 - b2);
      mb.mul_(b1).add_(gb, 1 - b1);
      vb.mul_(b2).addcmul_(gb, gb, 1 - b2);
      a.add_(ma / (va.sqrt() + eps), alpha);
      b.add_(mb / (vb.sqrt() + eps), alpha);
    }
    best.mean.slice(0, r0, r1).copy_(best_mean.cpu());
    best.logvar.slice(0, r0, r1).copy_(best_logvar.cpu());
  }
  return best;
}

}  // namespace preimage::likelihood
