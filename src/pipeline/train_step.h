#pragma once
// Step 1 of the thesis: train the VAE and store it in the run folder (model.pt, train_log.csv).
// While it trains, RUN/train_state.bin holds the state after the last finished epoch (removed
// once the model is stored): a killed training continues from there when run again with the
// same settings, and ends with the same model.
#include <string>

#include "data/dataset.h"
#include "model/vae.h"
#include "run/run_folder.h"
#include "train/vae_trainer.h"

namespace preimage::pipeline {

// The default evaluation images: the test split's first 1000 (all of it when it holds fewer).
inline const std::string kDefaultEvalImages = "0:1000";

struct TrainStep {
  data::DataSpec data;                // training images (split "train")
  std::string train_images = "all";   // range of training images
  // Range of test images for the per-epoch held-out figure (which drives the learning-rate
  // schedule, early stopping and the epoch kept) and the one-sample test ELBO, or "none" (then a
  // fixed learning rate, every epoch, the last one kept). 1000 images: a few seconds an epoch.
  std::string eval_images = kDefaultEvalImages;
  model::VaeConfig vae;               // architecture
  train::TrainConfig train;           // optimisation
};

// The held-out figure while training: for L = 2 and binary images, the mean exact log p(x) by
// quadrature on a grid of kTrainQuadraturePoints^2 points; otherwise the mean IWAE bound with
// kIwaeSamples samples per image from a generator seeded with `seed`.
// h = 0.06 on [-6, 6]: the mean log p(x) of the default model moves by < 0.005 nat from
// h = 0.04 to h = 0.005, and an epoch's figure on 1000 images costs a few seconds.
constexpr int64_t kTrainQuadraturePoints = 201;
constexpr int64_t kIwaeSamples = 50;             // k of the IWAE bound
train::HeldOutEvaluator held_out_evaluator(const data::Dataset& images, bool binary,
                                           uint64_t seed);
// The mean IWAE_k bound of `images` (N, P) under `vae`, its samples from a generator seeded with
// `seed` (likelihood/importance.h; LibTorch's default generator untouched).
double iwae_mean(model::Vae& vae, const torch::Tensor& images, int64_t k, uint64_t seed);

// The training state file of a run.
std::filesystem::path train_state_path(const run::RunFolder& run);

// Trains (continuing from RUN/train_state.bin when it was made for the same settings), writes
// RUN/model.pt and RUN/train_log.csv, records both in the manifest, removes the state file.
void train_model(run::RunFolder& run, const TrainStep& step);

// True when RUN records a model at RUN/model.pt trained with the same architecture, settings and
// images as `step` (then `run` reuses it).
bool has_matching_model(const run::RunFolder& run, const TrainStep& step);

}  // namespace preimage::pipeline
