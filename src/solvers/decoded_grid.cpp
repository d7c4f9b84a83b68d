#include "solvers/decoded_grid.h"

#include <cmath>
#include <vector>

namespace preimage::solvers {
torch::Tensor DecodedGrid::make_points(int64_t latent_dim, int64_t n, double radius) {
  auto axis = torch::linspace(-radius, radius, n, torch::kFloat32);
  std::vector<torch::Tensor> axes(static_cast<size_t>(latent_dim), axis);
  auto mesh = torch::meshgrid(axes, "ij");
  std::vector<torch::Tensor> cols;
  for (auto& m : mesh) cols.push_back(m.reshape({-1}));
  return torch::stack(cols, 1).contiguous();
}

double DecodedGrid::bytes(int64_t latent_dim, int64_t n, int64_t pixels) {
  return std::pow(static_cast<double>(n), static_cast<double>(latent_dim)) *
         static_cast<double>(pixels) * 4.0;
}

DecodedGrid DecodedGrid::decode(const Objective& objective, int64_t n, double radius) {
  torch::NoGradGuard no_grad;
  DecodedGrid d;
  d.decoder = &objective.decoder();
  d.n = n;
  d.radius = radius;
  d.points = make_points(objective.latent_dim(), n, radius).to(objective.targets().options());
  d.kind = objective.loss().kind;
  d.prior = objective.loss().prior_weight;
  d.coefficient = d.kind == LossKind::kSquaredError ? -2.0 : -1.0;
  // Filled chunk by chunk, each chunk's penalty summed while it is in cache.
  const int64_t G = d.points.size(0);
  d.feature = torch::empty({G, objective.decoder().pixels()}, d.points.options());
  d.constant = torch::empty({G}, d.points.options());
  decode_chunks(objective.decoder(), d.kind, d.prior, d.points,
                [&](int64_t first, const torch::Tensor& points, const torch::Tensor& feature,
                    const torch::Tensor& constant) {
                  d.feature.slice(0, first, first + points.size(0)).copy_(feature);
                  d.constant.slice(0, first, first + points.size(0)).copy_(constant);
                });
  return d;
}

void DecodedGrid::decode_chunks(const decoders::Decoder& decoder, LossKind kind, double prior,
                                const torch::Tensor& points, const ChunkVisitor& visit,
                                int64_t chunk) {
  torch::NoGradGuard no_grad;
  const int64_t G = points.size(0);
  for (int64_t g0 = 0; g0 < G; g0 += chunk) {
    auto p = points.slice(0, g0, std::min(G, g0 + chunk));
    auto feature = decoder.forward(p);
    torch::Tensor constant;
    if (kind == LossKind::kSquaredError) {
      feature.sigmoid_();
      constant = feature.square().sum(1);
    } else {
      constant = torch::nn::functional::softplus(feature).sum(1);
    }
    if (prior > 0) constant.add_(p.square().sum(1), prior);
    visit(g0, p, feature, constant);
  }
}

bool DecodedGrid::made_for(const Objective& objective, int64_t points, double box) const {
  return decoder == &objective.decoder() && n == points && radius == box &&
         kind == objective.loss().kind && prior == objective.loss().prior_weight &&
         this->points.scalar_type() == objective.targets().scalar_type();
}

torch::Tensor DecodedGrid::penalty(const torch::Tensor& f) const {
  return kind == LossKind::kSquaredError ? f.square() : torch::nn::functional::softplus(f);
}

torch::Tensor DecodedGrid::logits(const torch::Tensor& idx) const {
  auto f = feature.index_select(0, idx);
  if (kind == LossKind::kBernoulli) return f;
  return f.clamp_(kSaturation, 1 - kSaturation).logit_();
}

torch::Tensor DecodedGrid::scores(const Objective& objective, const torch::Tensor& weighted,
                                  const torch::Tensor& rows, const torch::Tensor& idx) const {
  auto f = feature.index_select(0, idx);  // (U, P)
  const auto& mask = objective.loss().mask;
  if (!mask.defined())  // constant + coefficient (m z) . f, one GEMM
    return torch::addmm(constant.index_select(0, idx).unsqueeze(0),
                        weighted.index_select(0, rows), f.t(), 1.0, coefficient);
  auto s = weighted.index_select(0, rows).mm(f.t()).mul_(coefficient);
  s.add_(mask.index_select(0, rows).mm(penalty(f).t()));
  if (prior > 0) s.add_(points.index_select(0, idx).square().sum(1).mul(prior).unsqueeze(0));
  return s;
}

torch::Tensor DecodedGrid::score_offset(const Objective& objective, const torch::Tensor& weighted) {
  if (objective.loss().kind == LossKind::kBernoulli)
    return torch::zeros({weighted.size(0)}, weighted.options());
  return (weighted * objective.targets()).sum(1);  // m.z^2 (m is 0/1)
}

}  // namespace preimage::solvers
