#pragma once
// The analysis step (`preimage analyze`, and the end of `run`): the thesis's chapter 3 on a run
// folder. Reads MT and every method's latent space, fits the bonus models (MB, MA), and computes
// for every space side by side, with the functions of src/analysis: latent statistics (annexes
// E, F), success rates (3.4), normality tests (3.5), the bonus models' held-out comparison (3.6)
// and the vector analysis (3.6.3). Writes RUN/analysis.json (schema: docs/ANALYSIS.md) and
// RUN/analysis/*.npy, the data behind the figures.
#include <string>

#include <nlohmann/json.hpp>

#include "analysis/bonus_models.h"
#include "analysis/classifier_source.h"
#include "pipeline/likelihood_step.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct AnalyzeConfig {
  // Classifier checkpoint; empty = the user's cache's for the run's data set and the settings
  // of `classifier_job` (analysis/classifier_source.h), trained there on first use.
  std::string classifier;
  bool train_classifier = true;       // train it when the checkpoint is missing
  analysis::ClassifierJob classifier_job;  // how (its `out` and `data` come from the run)
  analysis::BonusConfig bonus;        // MB and MA
  std::string bonus_method;           // the method whose MN the bonus models learn (first one)
  std::string loss;                   // loss of MT/MB/MA latents; empty = the run's first method's
  int64_t histogram_bins = 50;        // bins of the delta and loss histograms
  int64_t lowest = 500;               // digits of the N lowest final losses (the thesis: 500)
  int64_t top = 9;                    // best / worst images listed (figures 11-13 show 9)
  int64_t henze_zirkler_max_points = 60000;  // HZ is O(n^2): 9 s at 60000 points
  int64_t batch_size = 1000;          // images per decoder / classifier batch
  // The VAE's own measure (likelihood_step.h), where the latent is 2-D or 3-D and the images
  // binary; else left out with the reason.
  bool likelihood = true;
  LikelihoodConfig likelihood_config;
  nlohmann::json to_json() const;
};

// Runs every part, writes analysis.json and the arrays, returns the JSON. Throws UserError when
// the run lacks a file it needs (naming it), when latent spaces and labels have different
// lengths, or when the classifier checkpoint is of another architecture.
nlohmann::json analyze_run(run::RunFolder& run, const AnalyzeConfig& config);

// analyze_run, then its tables printed (analysis/tables.h). The classifier, when trained now,
// takes the bonus models' seed.
nlohmann::json analyze_and_print(run::RunFolder& run, AnalyzeConfig config);

}  // namespace preimage::pipeline
