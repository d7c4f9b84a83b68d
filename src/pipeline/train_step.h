#pragma once
// Step 1 of the thesis: train the VAE and store it in the run folder (model.pt, train_log.csv).
#include <string>

#include "data/dataset.h"
#include "model/vae.h"
#include "run/run_folder.h"
#include "train/vae_trainer.h"

namespace preimage::pipeline {

struct TrainStep {
  data::DataSpec data;                // training images (split "train")
  std::string train_images = "all";   // range of training images
  std::string eval_images = "all";    // range of test images for the per-epoch test ELBO ("none")
  model::VaeConfig vae;               // architecture
  train::TrainConfig train;           // optimisation
};

// Trains, writes RUN/model.pt and RUN/train_log.csv, records both in the manifest.
void train_model(run::RunFolder& run, const TrainStep& step);

// True when RUN records a model at RUN/model.pt trained with the same architecture, settings and
// images as `step` (then `run` reuses it).
bool has_matching_model(const run::RunFolder& run, const TrainStep& step);

}  // namespace preimage::pipeline
