#include "decoders/encoder.h"

#include <algorithm>
#include <vector>

namespace preimage::decoders {

torch::Tensor Encoder::means(const torch::Tensor& images, int64_t batch) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < images.size(0); b += batch)
    parts.push_back(encode(images.slice(0, b, std::min(images.size(0), b + batch))).mean);
  if (parts.empty()) return torch::zeros({0, latent_dim()});
  return torch::cat(parts, 0);
}

}  // namespace preimage::decoders
