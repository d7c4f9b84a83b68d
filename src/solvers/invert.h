#pragma once
// Inverting a whole data set: split into chunks (memory bounded by the chunk size, not by the
// data set), solve each chunk with one batched solver call, join the results.
#include <string>

#include <torch/torch.h>

#include "solvers/solver.h"

namespace preimage::solvers {

struct InvertRequest {
  std::string method = "adafactor";  // see solver_names()
  SolverSettings settings;           // curve_images are positions in `targets`
  LossSpec loss;                     // mask may be (N, P), (P) or undefined
  // Images solved together (memory ~ 10 * chunk * P floats). 2000 keeps each solver's
  // per-pixel work in cache: against 5000, measured here as whole processes on 5000 images,
  // gauss-newton 20% and grid 7% faster, lbfgs 8% slower.
  int64_t chunk_size = 2000;
  bool show_progress = true;
  Encoder encoder;                   // the model's encoder (fixed-point needs it), or empty
};

// Solves every row of `targets` (N, P) from `start` (N, L).
Solution invert(const DecoderEngine& engine, const torch::Tensor& targets,
                const torch::Tensor& start, const InvertRequest& request);

}  // namespace preimage::solvers
