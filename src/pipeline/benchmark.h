#pragma once
// Throughput figures of the expensive loops, each as a ratio to the machine's GEMM rate
// measured in the same process (machines are shared and noisy: ratios travel, seconds do not).
#include <torch/torch.h>

#include "model/vae.h"
#include "solvers/decoder_engine.h"

namespace preimage::pipeline {

// GFLOP/s of an n x n float32 matrix product (median of `repeats`).
double gemm_gflops(int64_t n = 2048, int repeats = 7);

struct Throughput {
  int64_t items = 0;      // images (x steps) processed
  double seconds = 0;     // wall time
  double gflops = 0;      // useful floating-point rate
  double optimizer_seconds = 0;  // training only: time inside the optimizer's step
  double per_second() const { return seconds > 0 ? static_cast<double>(items) / seconds : 0; }
};

// The faithful inversion (Adafactor, `steps` steps) of all `targets` by invert() in chunks of
// `chunk` images on `workers` workers (0: automatic): items = images x steps.
Throughput bench_inversion_batched(const solvers::DecoderEngine& engine,
                                   const torch::Tensor& targets, const torch::Tensor& start,
                                   int64_t steps, int64_t chunk, int64_t workers = 0);

// The same inversion one image at a time (one worker), as the thesis ran it.
Throughput bench_inversion_one_by_one(const solvers::DecoderEngine& engine,
                                      const torch::Tensor& targets, const torch::Tensor& start,
                                      int64_t steps);

// The thesis's way: one image at a time, each step an autograd pass through the decoder module
// (as TensorFlow's GradientTape did), with the same Adafactor update.
Throughput bench_inversion_autograd_one_by_one(model::Vae& vae, const torch::Tensor& targets,
                                               const torch::Tensor& start, int64_t steps);

// VAE training steps over `images` (one pass, Adam): items = images.
Throughput bench_training(const model::VaeConfig& config, const torch::Tensor& images,
                          int64_t batch_size, double learning_rate);

}  // namespace preimage::pipeline
