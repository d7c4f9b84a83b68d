#pragma once
// Training the VAE with Adam on the negative ELBO. After each epoch a held-out figure supplied
// by the caller (the exact log-likelihood, or an importance-weighted bound: higher is better)
// drives a reduce-on-plateau learning-rate schedule, early stopping and the choice of the
// weights kept; the training state is saved so that a killed training resumes (train_state.h).
#include <filesystem>
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
  int64_t epochs = 20;          // passes over the training images, at most (thesis preset: 10)
  int64_t batch_size = 128;     // images per Adam step (thesis: 32)
  double learning_rate = 5e-4;  // Adam's initial step size (thesis: 1e-4)
  // Epochs without a better held-out figure before the step size is halved (0: a fixed step
  // size, the thesis's).
  int64_t lr_patience = 2;
  // Epochs without a better held-out figure before training stops (0: all epochs run).
  int64_t stop_patience = 5;
  // Keep the weights of the epoch with the best held-out figure (false: the last epoch's, as the
  // thesis's tutorial, which evaluates but never selects).
  bool keep_best = true;
  uint64_t seed = 0;            // one seed for initialisation, shuffling and sampling
  std::string preset = "fast";  // "fast" (these defaults), "thesis" or "converged"

  // Applies a preset:
  //   "thesis": the TensorFlow CVAE tutorial literally: Adam 1e-4, batch 32, 10 epochs, a fixed
  //             step size, every epoch run and the last one kept;
  //   "fast":   Adam 5e-4, batch 128, at most 20 epochs, the schedule, early stopping and the
  //             best epoch kept: a quarter of the thesis preset's time per epoch and a better
  //             ELBO (README, "Training presets");
  //   "converged": "fast" run to convergence: at most 200 epochs, stopped by the schedule.
  void apply_preset(const std::string& name);
  nlohmann::json to_json() const;
};

// The step-size factor of the schedule (Keras's ReduceLROnPlateau's usual 0.5).
constexpr double kLrFactor = 0.5;

// What the user set on top of a preset (flags given).
struct TrainOverrides {
  std::optional<int64_t> epochs;
  std::optional<int64_t> batch_size;
  std::optional<double> learning_rate;
  std::optional<int64_t> lr_patience;
  std::optional<int64_t> stop_patience;
};
// The preset `name` with `given` on top; throws UserError for an unknown preset or a value out
// of range.
TrainConfig train_config(const std::string& preset, const TrainOverrides& given, uint64_t seed);

struct EpochLog {
  int64_t epoch = 0;          // 1-based
  double train_elbo = 0;      // mean ELBO over the epoch's batches (higher is better)
  double test_elbo = 0;       // one-sample ELBO on the evaluation images (NaN if none)
  double held_out = 0;        // the held-out figure after the epoch (NaN if none)
  double learning_rate = 0;   // Adam's step size during the epoch
  double seconds = 0;         // wall time of the epoch's training steps
  double eval_seconds = 0;    // wall time of the held-out figure (NaN if none)
  nlohmann::json to_json() const;
};

// A held-out figure of a model: higher is better (nats per image).
struct HeldOut {
  double value = 0;   // e.g. the mean exact log p(x), or a mean IWAE bound
  std::string name;   // what it is, e.g. "log_px_quadrature_201" or "iwae_50"
};
// Evaluates the model as it is after an epoch. Must not change the model; LibTorch's default
// generator is saved and restored around it.
using HeldOutEvaluator = std::function<HeldOut(model::Vae&)>;

struct TrainHooks {
  // The figure the schedule, early stopping and keep-best follow. Null: none of them (a fixed
  // step size, every epoch, the last one kept).
  HeldOutEvaluator held_out;
  // After each epoch, with its weights in the model (after the state file is written).
  std::function<void(const EpochLog&, model::Vae&)> on_epoch;
  // Where the training state is written after each epoch and looked for at the start (empty:
  // nowhere). The caller removes it once the trained model is stored.
  std::filesystem::path state_file;
  // What else the state depends on (data, images, the evaluator's settings): a state made for
  // another key, or other settings or architecture, is ignored with a warning.
  nlohmann::json state_key;
};

struct TrainResult {
  std::vector<EpochLog> logs;     // every epoch, those before a resume included
  int64_t kept_epoch = 0;         // the epoch whose weights the model holds at the end
  int64_t best_epoch = 0;         // the epoch of the best held-out figure (0: no figure)
  double best_held_out = 0;       // its value (NaN: none)
  std::string held_out_name;      // HeldOut::name ("" without an evaluator)
  bool stopped_early = false;     // early stopping ended training before config.epochs
  int64_t resumed_after = 0;      // epochs read from a state file (0: from the start)
  // {kept_epoch, best_epoch, best_held_out, held_out, stopped_early}
  nlohmann::json to_json() const;
};

// Trains `vae` in place. `eval` (may be null) gives the one-sample test ELBO column.
TrainResult train_vae(model::Vae& vae, const data::Dataset& train, const data::Dataset* eval,
                      const TrainConfig& config, const TrainHooks& hooks = {});

// Mean ELBO of `ds` under `vae`, one sample per image drawn from a generator seeded with `seed`
// (so the figure is the same each time), in batches of `batch_size`.
double evaluate_elbo(model::Vae& vae, const data::Dataset& ds, uint64_t seed,
                     int64_t batch_size = 1000);

}  // namespace preimage::train
