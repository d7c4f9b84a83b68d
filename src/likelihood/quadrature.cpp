#include "likelihood/quadrature.h"

#include <cmath>

#include <fmt/format.h>

#include "solvers/decoded_grid.h"
#include "util/error.h"

namespace preimage::likelihood {
namespace {
constexpr double kEdgeShare = 0.1;  // the box's outer tenth, where mass means a truncated integral

// log of the standard normal density's constant in L dimensions.
double log_normal_constant(int64_t latent_dim) {
  return -0.5 * static_cast<double>(latent_dim) * std::log(2 * M_PI);
}

// The trapezoidal rule's log-weight of every grid point (G), float64: the product over the axes
// of h, halved at either end of an axis.
torch::Tensor log_weights(const torch::Tensor& points, double radius, double h) {
  auto at_edge = (points.abs() >= radius - 0.25 * h).to(torch::kFloat64);  // (G, L)
  return (std::log(h) + at_edge * std::log(0.5)).sum(1);
}

// Running sums of w * exp(s - m) per image, rescaled when the running maximum m grows: the
// quadrature's mass and the posterior's moments without overflow.
struct Accumulator {
  torch::Tensor max, mass, first, second, edge;  // (N), (N), (N, L), (N, L), (N)
  torch::Tensor coarse;                          // (N) mass of the rule of spacing 2h
  torch::Tensor mode, mode_value;                // (N, L), (N)

  Accumulator(int64_t n, int64_t latent_dim) {
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    max = torch::full({n}, -INFINITY, f64);
    mass = torch::zeros({n}, f64);
    first = torch::zeros({n, latent_dim}, f64);
    second = torch::zeros({n, latent_dim}, f64);
    edge = torch::zeros({n}, f64);
    coarse = torch::zeros({n}, f64);
    mode = torch::zeros({n, latent_dim});
    mode_value = torch::full({n}, -INFINITY, f64);
  }

  // Adds grid points `points` (C, L) of log-weights `logw` (C), coarse log-weights `logw2` (C,
  // -inf off the coarse grid) and edge flags `at_edge` (C) for images [r0, r1) with log joints
  // `s` (R, C).
  void add(int64_t r0, int64_t r1, const torch::Tensor& s, const torch::Tensor& points,
           const torch::Tensor& logw, const torch::Tensor& logw2, const torch::Tensor& at_edge) {
    auto s64 = s.to(torch::kFloat64);
    auto [best, arg] = s64.max(1);
    auto mode_rows = mode_value.slice(0, r0, r1);
    auto better = best > mode_rows;
    mode_rows.copy_(torch::where(better, best, mode_rows));
    auto mode_points = mode.slice(0, r0, r1);
    mode_points.copy_(torch::where(better.unsqueeze(1), points.index_select(0, arg), mode_points));

    auto t = s64 + logw.unsqueeze(0);  // (R, C)
    auto old_max = max.slice(0, r0, r1);
    auto new_max = torch::maximum(old_max, std::get<0>(t.max(1)));
    auto scale = (old_max - new_max).exp_();  // 0 for the first chunk (exp(-inf))
    auto w = (t - new_max.unsqueeze(1)).exp_();
    auto p64 = points.to(torch::kFloat64);
    mass.slice(0, r0, r1).mul_(scale).add_(w.sum(1));
    first.slice(0, r0, r1).mul_(scale.unsqueeze(1)).add_(w.mm(p64));
    second.slice(0, r0, r1).mul_(scale.unsqueeze(1)).add_(w.mm(p64.square()));
    edge.slice(0, r0, r1).mul_(scale).add_(w.mv(at_edge));
    auto w2 = (s64 + logw2.unsqueeze(0) - new_max.unsqueeze(1)).exp_();
    coarse.slice(0, r0, r1).mul_(scale).add_(w2.sum(1));
    old_max.copy_(new_max);
  }
};
}  // namespace

void QuadratureSettings::check() const {
  require(points >= 3 && points <= 100001 && points % 2 == 1,
          fmt::format("the quadrature needs an odd number of points per axis, 3 to 100001, got {}",
                      points),
          "odd, so that every other point is the grid of twice the spacing (the check)");
  require(observation.kind == Observation::kBernoulli ||
              (std::isfinite(observation.sigma) && observation.sigma > 0),
          fmt::format("the Gaussian observation's sigma must be positive, got {}",
                      observation.sigma));
  require(std::isfinite(radius) && radius > 0,
          fmt::format("the quadrature's box radius must be a positive number, got {}", radius));
  require(batch > 0, fmt::format("the quadrature's image batch must be positive, got {}", batch));
}

void require_binary_images(const torch::Tensor& images, int64_t pixels, const std::string& what) {
  require(images.dim() == 2 && images.size(1) == pixels,
          fmt::format("{} have {} values each; the decoder makes images of {} pixels", what,
                      images.dim() == 2 ? images.size(1) : images.numel(), pixels));
  const bool binary = images.eq(0).logical_or(images.eq(1)).all().item<bool>();
  require(binary, fmt::format("{} are not binary (0/1): the VAE's likelihood is Bernoulli", what),
          "binarize them (--binarize 0.5), as the model was trained");
}

torch::Tensor log_joint(const decoders::Decoder& decoder, const torch::Tensor& images,
                        const torch::Tensor& y, int64_t batch) {
  torch::NoGradGuard no_grad;
  const int64_t n = y.size(0);
  auto out = torch::empty({n}, torch::kFloat64);
  const double c = log_normal_constant(decoder.latent_dim());
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    auto yb = y.slice(0, b0, b1).to(decoder.device(), decoder.dtype());
    auto logits = decoder.forward(yb);
    auto x = images.slice(0, b0, b1).to(logits.options());
    auto value = (x * logits - torch::nn::functional::softplus(logits)).sum(1) -
                 0.5 * yb.square().sum(1);
    out.slice(0, b0, b1).copy_(value.to(torch::kCPU, torch::kFloat64) + c);
  }
  return out;
}

ExactLikelihood exact_log_likelihood(const decoders::Decoder& decoder, const torch::Tensor& images,
                                     const QuadratureSettings& settings, const std::string& what) {
  torch::NoGradGuard no_grad;
  settings.check();
  const int64_t L = decoder.latent_dim();
  require(L <= 3, fmt::format("the exact likelihood integrates over the latent grid, which "
                              "needs L <= 3; the decoder has L = {}",
                              L),
          "use `preimage likelihood --iwae K` for an importance-weighted bound");
  const bool gaussian = settings.observation.kind == Observation::kGaussian;
  if (gaussian)
    require(images.dim() == 2 && images.size(1) == decoder.pixels(),
            fmt::format("{} are not (N, {}) images", what, decoder.pixels()));
  else
    require_binary_images(images, decoder.pixels(), what);
  const int64_t n = images.size(0);
  const double h = settings.spacing();
  auto points = solvers::DecodedGrid::make_points(L, settings.points, settings.radius)
                    .to(decoder.device(), decoder.dtype());
  auto cpu_points = points.to(torch::kCPU);
  auto logw = log_weights(cpu_points, settings.radius, h);
  // The rule of spacing 2h: the points of even index on every axis.
  auto index = torch::arange(cpu_points.size(0), torch::kInt64);
  auto on_coarse = torch::ones({cpu_points.size(0)}, torch::kBool);
  for (int64_t k = L - 1; k >= 0; --k) {
    on_coarse.logical_and_(index.remainder(settings.points).remainder(2).eq(0));
    index = index.div(settings.points, "floor");
  }
  auto logw2 = torch::where(on_coarse, log_weights(cpu_points, settings.radius, 2 * h),
                            torch::full_like(logw, -INFINITY));
  auto at_edge = (std::get<0>(cpu_points.abs().max(1)) >= (1 - kEdgeShare) * settings.radius)
                     .to(torch::kFloat64);
  auto x = images.to(decoder.device(), decoder.dtype());
  // The log joint of image i at grid point g is  a x_i . f_g - k_g + r_i + c:  Bernoulli: f the
  // logits, a = 1, k = sum softplus(f) + |g|^2/2 (the decoded grid's constant with prior 1/2),
  // r = 0; Gaussian: a = 1/sigma^2, k = |f|^2/(2 sigma^2) + |g|^2/2, r = -|x|^2/(2 sigma^2)
  // - P/2 log(2 pi sigma^2). One matrix product per block.
  const double sigma2 = settings.observation.sigma * settings.observation.sigma;
  const double a = gaussian ? 1 / sigma2 : 1.0;
  const double c = log_normal_constant(L);
  torch::Tensor r = torch::zeros({n}, x.options());
  if (gaussian)
    r = x.square().sum(1).div(-2 * sigma2) -
        0.5 * static_cast<double>(decoder.pixels()) * std::log(2 * M_PI * sigma2);
  Accumulator acc(n, L);
  solvers::DecodedGrid::decode_chunks(
      decoder, solvers::LossKind::kBernoulli, 0.5, points,
      [&](int64_t first, const torch::Tensor& p, const torch::Tensor& feature,
          const torch::Tensor& constant) {
        const int64_t count = p.size(0);
        auto p_cpu = cpu_points.slice(0, first, first + count);
        auto w = logw.slice(0, first, first + count);
        auto w2 = logw2.slice(0, first, first + count);
        auto e = at_edge.slice(0, first, first + count);
        auto k = gaussian ? feature.square().sum(1).div(2 * sigma2) + 0.5 * p.square().sum(1)
                          : constant;
        for (int64_t r0 = 0; r0 < n; r0 += settings.batch) {
          const int64_t r1 = std::min(n, r0 + settings.batch);
          auto s = torch::addmm(k.neg().add(c).unsqueeze(0), x.slice(0, r0, r1), feature.t(),
                                1.0, a);
          if (gaussian) s.add_(r.slice(0, r0, r1).unsqueeze(1));
          acc.add(r0, r1, s.to(torch::kCPU), p_cpu, w, w2, e);
        }
      });
  ExactLikelihood out;
  out.log_px = acc.max + acc.mass.log();
  out.log_px_coarse = acc.max + acc.coarse.log();
  out.posterior_mean = acc.first / acc.mass.unsqueeze(1);
  out.posterior_var =
      (acc.second / acc.mass.unsqueeze(1) - out.posterior_mean.square()).clamp_min(0);
  out.mode = acc.mode;
  out.mode_log_joint = acc.mode_value;
  out.edge_mass = acc.edge / acc.mass;
  return out;
}

}  // namespace preimage::likelihood
