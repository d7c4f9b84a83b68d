#pragma once
// Training the VAE with Adam on the negative ELBO, logging train and test ELBO per epoch.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/dataset.h"
#include "model/vae.h"

namespace preimage::train {

struct TrainConfig {
  int64_t epochs = 20;          // passes over the training images (thesis preset: 10)
  int64_t batch_size = 128;     // images per Adam step (thesis: 32)
  double learning_rate = 5e-4;  // Adam step size (thesis: 1e-4)
  uint64_t seed = 0;            // one seed for initialisation, shuffling and sampling
  std::string preset = "fast";  // "fast" (these defaults) or "thesis"

  // Applies a preset: "thesis" = the TensorFlow CVAE tutorial's Adam 1e-4, batch 32, 10 epochs;
  // "fast" = Adam 5e-4, batch 128, 20 epochs: a quarter of the thesis preset's time per epoch,
  // and a better ELBO (README, "Training presets").
  void apply_preset(const std::string& name);
  nlohmann::json to_json() const;
};

// What the user set on top of a preset (flags given).
struct TrainOverrides {
  std::optional<int64_t> epochs;
  std::optional<int64_t> batch_size;
  std::optional<double> learning_rate;
};
// The preset `name` with `given` on top; throws UserError for an unknown preset or a value out
// of range.
TrainConfig train_config(const std::string& preset, const TrainOverrides& given, uint64_t seed);

struct EpochLog {
  int64_t epoch = 0;         // 1-based
  double train_elbo = 0;     // mean ELBO over the epoch's batches (higher is better)
  double test_elbo = 0;      // mean ELBO on the evaluation images (NaN if none)
  double seconds = 0;        // wall time of the epoch's training steps
  nlohmann::json to_json() const;
};

// Trains `vae` in place. `eval` may be null. Calls `on_epoch` after each epoch.
std::vector<EpochLog> train_vae(model::Vae& vae, const data::Dataset& train,
                                const data::Dataset* eval, const TrainConfig& config,
                                const std::function<void(const EpochLog&)>& on_epoch = {});

// Mean ELBO of `ds` under `vae`, one sample per image drawn from a generator seeded with `seed`
// (so the figure is the same each time), in batches of `batch_size`.
double evaluate_elbo(model::Vae& vae, const data::Dataset& ds, uint64_t seed,
                     int64_t batch_size = 1000);

}  // namespace preimage::train
