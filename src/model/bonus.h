#pragma once
// The thesis's bonus model MB (section 3.6) and, beyond it, an amortized inverse MA:
//   MB: latent -> latent,  Dense(64, ReLU) x 2 -> Dense(L): maps an encoder latent MT_i to the
//       inverted latent MN_i (the thesis's 2-64-64-2);
//   MA: image -> latent,   Dense(256, ReLU) x 2 -> Dense(L): maps an image straight to its
//       inverted latent, a learned replacement for encoder + inversion.
// Both are plain Mlp's; these helpers name their shapes and checkpoint architecture records.
#include <string>

#include <nlohmann/json.hpp>

#include "model/mlp.h"

namespace preimage::model {

constexpr int64_t kBonusWidth = 64;       // the thesis's hidden units of MB
constexpr int64_t kAmortizedWidth = 256;  // hidden units of MA (784 inputs need more than 64)

// MB: L -> 64 -> 64 -> L.
MlpShape bonus_shape(int64_t latent_dim);
// MA: P pixels -> 256 -> 256 -> L.
MlpShape amortized_shape(int64_t pixels, int64_t latent_dim);

// Architecture record of an Mlp for checkpoints: {"kind": kind, "input", "width", "depth",
// "output"}.
nlohmann::json mlp_architecture(const std::string& kind, const MlpShape& shape);

}  // namespace preimage::model
