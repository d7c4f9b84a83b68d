#pragma once
// The thesis's bonus model MB (section 3.6) and the amortized inverse MA, fitted on a run:
//   MB: MT_i -> MN_i, an Mlp 2-64-64-2, Adam + MSE, 100 epochs, batch 32, the last 20% of the
//       images held out (Keras's validation_split, as the thesis);
//   MA: image_i -> MN_i, an Mlp P-256-256-L, same split (beyond the thesis: one forward pass
//       instead of encoder + inversion).
// Both are then applied to every image of the run; the held-out rows tell whether they beat MT.
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "train/bonus_trainer.h"

namespace preimage::analysis {

struct BonusConfig {
  bool enabled = true;              // fit MB (and MA)
  bool amortized = true;            // fit MA too
  train::RegressionConfig latent;   // MB: the thesis's 100 epochs, batch 32, split 0.2
  train::RegressionConfig image{/*epochs=*/30, /*batch_size=*/128};  // MA: 784 inputs, bigger batches
  uint64_t seed = 0;                // initialisation and shuffling of both
  nlohmann::json to_json() const;
};

struct BonusModels {
  int64_t train_rows = 0;  // rows [0, train_rows) trained both; the rest is held out
  torch::Tensor mb;        // (N, L) MB(MT_i)
  torch::Tensor ma;        // (N, L) MA(image_i); undefined without MA
  nlohmann::json report;   // per model: architecture, training settings, per-epoch log, final MSEs
};

// mt, mn: (N, L); images: (N, P). Saves MB.pt / MA.pt into `save_dir` when it is not empty.
BonusModels fit_bonus_models(const torch::Tensor& mt, const torch::Tensor& mn,
                             const torch::Tensor& images, const BonusConfig& config,
                             const std::filesystem::path& save_dir = {});

}  // namespace preimage::analysis
