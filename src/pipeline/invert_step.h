#pragma once
// Step 3 of the thesis: invert the decoder image by image (batched), from a start point.
#include <string>
#include <vector>

#include "run/run_folder.h"
#include "solvers/invert.h"

namespace preimage::pipeline {

struct InvertStep {
  solvers::InvertRequest request;  // method, settings, loss, chunk size
  std::string start = "encoder";   // "encoder" (MT), "prior" (the origin) or a stored space
  std::vector<int64_t> curve_images = {0};  // run positions whose loss curves are kept
};

// Inverts the run's images, writes the method's files and results.csv; returns the solution.
solvers::Solution invert_run(run::RunFolder& run, const InvertStep& step);

// The start points a run offers by name: (N, L).
torch::Tensor start_points(const run::RunFolder& run, const std::string& start, int64_t n,
                           int64_t latent_dim);

}  // namespace preimage::pipeline
