#pragma once
// Step 3 of the thesis: invert the decoder image by image (batched), from a start point.
#include <string>
#include <vector>

#include "run/run_folder.h"
#include "solvers/invert.h"

namespace preimage::pipeline {

struct InvertStep {
  std::string method = "adafactor";     // a registry method (the thesis's by default)
  solvers::SettingsOverrides settings;  // what the user set; the rest is the method's default
  solvers::LossSpec loss;               // squared error (the thesis) or bernoulli, prior weight
  int64_t chunk_size = 0;               // images solved together (0: automatic, InvertRequest)
  int64_t workers = 0;                  // chunks solved at once (0: automatic)
  std::string start = "encoder";  // "encoder" (MT), "prior" (the origin), "grid" or a stored space
  std::vector<int64_t> curve_images = {0};  // run positions whose loss curves are kept
  bool show_progress = true;

  // The solver's request: the method's settings with the user's on top (throws UserError for an
  // unknown method or a setting out of range).
  solvers::InvertRequest request() const;
};

// Inverts the run's images, writes the method's files and results.csv; returns the solution.
solvers::Solution invert_run(run::RunFolder& run, const InvertStep& step);

// The start points a run offers by name: (N, L).
torch::Tensor start_points(const run::RunFolder& run, const std::string& start, int64_t n,
                           int64_t latent_dim);

}  // namespace preimage::pipeline
