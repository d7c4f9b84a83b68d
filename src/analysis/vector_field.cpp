#include "analysis/vector_field.h"

namespace preimage::analysis {

VectorAnalysis vector_analysis(const torch::Tensor& mt, const torch::Tensor& mn) {
  TORCH_CHECK(mt.sizes() == mn.sizes() && mt.dim() == 2, "vector analysis needs two (N, L) "
              "latent sets of one shape, got ", mt.sizes(), " and ", mn.sizes());
  auto t = mt.to(torch::kFloat64), n = mn.to(torch::kFloat64);
  VectorAnalysis a;
  a.v = n - t;
  a.u = t.mean(0, /*keepdim=*/true) - t;
  a.dot = (a.u * a.v).sum(1);
  auto norms = a.u.norm(2, 1) * a.v.norm(2, 1);
  auto defined = norms > 0;
  a.cosine = torch::where(defined, a.dot / norms, torch::full_like(norms, std::nan("")));
  const int64_t count = t.size(0);
  a.positive = (a.dot > 0).sum().item<int64_t>();
  a.share_positive = count > 0 ? static_cast<double>(a.positive) / static_cast<double>(count) : 0.0;
  a.mean_dot = count > 0 ? a.dot.mean().item<double>() : 0.0;
  a.cosine_defined = defined.sum().item<int64_t>();
  a.mean_cosine = a.cosine_defined > 0 ? a.cosine.masked_select(defined).mean().item<double>()
                                       : std::nan("");
  a.mean_norm_v = count > 0 ? a.v.norm(2, 1).mean().item<double>() : 0.0;
  return a;
}

nlohmann::json VectorAnalysis::to_json() const {
  return {{"images", dot.numel()},
          {"positive", positive},
          {"share_positive", share_positive},
          {"mean_dot", mean_dot},
          {"mean_cosine", std::isnan(mean_cosine) ? nlohmann::json() : nlohmann::json(mean_cosine)},
          {"cosine_defined", cosine_defined},
          {"mean_norm_v", mean_norm_v}};
}

torch::Tensor VectorAnalysis::field(const torch::Tensor& mt) const {
  return torch::cat({mt.to(torch::kFloat64), v, dot.unsqueeze(1)}, 1).to(torch::kFloat32);
}

}  // namespace preimage::analysis
