#include "model/bonus.h"

namespace preimage::model {

MlpShape bonus_shape(int64_t latent_dim) {
  return MlpShape{/*input=*/latent_dim, /*width=*/kBonusWidth, /*depth=*/2, /*output=*/latent_dim};
}

MlpShape amortized_shape(int64_t pixels, int64_t latent_dim) {
  return MlpShape{/*input=*/pixels, /*width=*/kAmortizedWidth, /*depth=*/2,
                  /*output=*/latent_dim};
}

nlohmann::json mlp_architecture(const std::string& kind, const MlpShape& shape) {
  return {{"kind", kind},
          {"input", shape.input},
          {"width", shape.width},
          {"depth", shape.depth},
          {"output", shape.output}};
}

}  // namespace preimage::model
