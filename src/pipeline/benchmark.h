#pragma once
// Throughput figures of the expensive loops, each as a ratio to the machine's GEMM rate
// measured in the same process (machines are shared and noisy: ratios travel, seconds do not).
#include <functional>
#include <string>

#include <torch/torch.h>

#include "data/dataset.h"
#include "decoders/decoder.h"
#include "model/vae.h"

namespace preimage::pipeline {

// GFLOP/s of an n x n float32 matrix product (median of `repeats`).
double gemm_gflops(int64_t n = 2048, int repeats = 7);

struct Throughput {
  int64_t items = 0;      // images (x steps) processed
  double seconds = 0;     // wall time
  double gflops = 0;      // useful floating-point rate
  double optimizer_seconds = 0;  // training only: time inside the optimizer's step
  double gemm_share = 0;         // training only: gflops / the GEMM rate measured alongside
  double per_second() const { return seconds > 0 ? static_cast<double>(items) / seconds : 0; }
};

// The faithful inversion (Adafactor, `steps` steps) of all `targets` by invert() in chunks of
// `chunk` images on `workers` workers (0: automatic): items = images x steps.
Throughput bench_inversion_batched(const decoders::Decoder& decoder,
                                   const torch::Tensor& targets, const torch::Tensor& start,
                                   int64_t steps, int64_t chunk, int64_t workers = 0);

// The same inversion one image at a time (one worker), as the thesis ran it.
Throughput bench_inversion_one_by_one(const decoders::Decoder& decoder,
                                      const torch::Tensor& targets, const torch::Tensor& start,
                                      int64_t steps);

// The thesis's way: one image at a time, each step an autograd pass through the decoder module
// (as TensorFlow's GradientTape did), with the same Adafactor update.
Throughput bench_inversion_autograd_one_by_one(model::Vae& vae, const torch::Tensor& targets,
                                               const torch::Tensor& start, int64_t steps);

// VAE training steps (train::train_step) over `images` (one pass, Adam): items = images. The
// steps run in `rounds` parts, each after a GEMM timing (gemm_gflops(2048, 3)); gemm_share is
// the median over the parts of the part's rate over its GEMM rate. optimizer_seconds: the
// optimizer's update (KerasAdam::step) timed alone on stand-in gradients, times the steps.
Throughput bench_training(const model::VaeConfig& config, const torch::Tensor& images,
                          int64_t batch_size, double learning_rate, int rounds = 5);

// What `preimage bench` measures.
struct BenchConfig {
  std::string model;            // a checkpoint (default: a fresh thesis-architecture VAE)
  int64_t images = 5000;        // images of the batched inversion (the thesis's 5000)
  int64_t steps = 150;          // Adafactor steps (the thesis's 150)
  int64_t single_images = 20;   // images inverted one at a time
  int64_t chunk = 0;            // images solved together (0: automatic, see InvertRequest)
  int64_t train_images = 12800; // images of the timed training pass
  int64_t train_batch = 128;    // batch of the timed training pass (the fast preset); a second
                                // pass at the thesis's 32 on a quarter of the images
  bool training_only = false;   // the GEMM rate and the training rows only
  data::DataSpec data;          // MNIST by default; random binary images when it is missing
};

// Runs every measurement of `preimage bench` in one process and hands each figure, as soon as it
// is known, to `row(name, value)`: the GEMM rate, then each loop's rate as a share of it.
using Row = std::function<void(const std::string& name, const std::string& value)>;
void run_benchmarks(const BenchConfig& config, const Row& row);

}  // namespace preimage::pipeline
