#pragma once
// Vector analysis of an inversion (thesis section 3.6.3): for each image, v_i = MN_i - MT_i (where
// the inversion moved the encoder's latent) and u_i = mean(MT) - MT_i (the direction back to the
// centre of the encoder's latent cloud). Positive u_i . v_i means the inversion pulled the point
// towards the centre. The thesis's quiver figure draws v_i at MT_i, coloured by the sign of the
// product.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace preimage::analysis {

struct VectorAnalysis {
  torch::Tensor v;       // (N, L) MN_i - MT_i
  torch::Tensor u;       // (N, L) mean(MT) - MT_i
  torch::Tensor dot;     // (N) u_i . v_i
  torch::Tensor cosine;  // (N) u_i . v_i / (|u_i| |v_i|), NaN where either is zero
  int64_t positive = 0;          // images with u_i . v_i > 0
  double share_positive = 0;     // positive / N
  double mean_dot = 0;           // mean of u_i . v_i
  double mean_cosine = 0;        // mean cosine over images where it is defined
  int64_t cosine_defined = 0;    // how many those are
  double mean_norm_v = 0;        // mean |v_i|, how far the inversion moved

  nlohmann::json to_json() const;  // the scalars
  // The quiver figure's data, (N, 2L + 1) float32: MT_i (L columns), v_i (L), u_i . v_i.
  torch::Tensor field(const torch::Tensor& mt) const;
};

// mt, mn: (N, L) of equal shapes.
VectorAnalysis vector_analysis(const torch::Tensor& mt, const torch::Tensor& mn);

}  // namespace preimage::analysis
