#pragma once
// Inverting a whole data set: split into chunks (memory bounded by the chunk size, not by the
// data set), solve each chunk with one batched solver call, join the results. On the CPU the
// chunks are solved by several workers at once, each with a single-threaded BLAS: the solvers'
// elementwise and indexing work (about 40% of a single solve's time with a two-threaded BLAS)
// then runs in parallel too, and a chunk's result does not depend on the number of workers.
#include <string>

#include <torch/torch.h>

#include "solvers/solver.h"

namespace preimage::solvers {

struct InvertRequest {
  std::string method = "adafactor";  // see solver_names()
  SolverSettings settings;           // curve_images are positions in `targets`
  LossSpec loss;                     // mask may be (N, P), (P) or undefined
  // Images solved together (memory ~ 10 * chunk * P floats per worker). 2000 keeps each
  // solver's per-pixel work in cache: against 5000, measured here as whole processes on 5000
  // images, gauss-newton 20% and grid 7% faster, lbfgs 8% slower.
  int64_t chunk_size = 2000;
  // Chunks solved at once (0: automatic, as many as the BLAS has threads, one off the CPU; never
  // more than there are chunks).
  int64_t workers = 0;
  bool show_progress = true;
  Encoder encoder;                   // the model's encoder (fixed-point needs it), or empty
};

// Solves every row of `targets` (N, P) from `start` (N, L).
Solution invert(const DecoderEngine& engine, const torch::Tensor& targets,
                const torch::Tensor& start, const InvertRequest& request);

// The workers invert() uses for `images` images on `device`.
int64_t invert_workers(const InvertRequest& request, int64_t images, const torch::Device& device);

}  // namespace preimage::solvers
