#include "pipeline/benchmark.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "solvers/adafactor.h"
#include "solvers/invert.h"
#include "train/adam.h"
#include "train/elbo.h"

namespace preimage::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// FLOPs of one training step per image: forward, input gradients and weight gradients.
double training_flops_per_image(const model::VaeConfig& c) {
  auto mlp = [](int64_t in, int64_t width, int64_t depth, int64_t out) {
    double f = 2.0 * static_cast<double>(in * width + out * width);
    f += 2.0 * static_cast<double>((depth - 1) * width * width);
    return f;
  };
  const double forward = mlp(c.pixels(), c.hidden_width, c.encoder_depth, 2 * c.latent_dim) +
                         mlp(c.latent_dim, c.hidden_width, c.decoder_depth, c.pixels());
  return 3.0 * forward;
}

}  // namespace

double gemm_gflops(int64_t n, int repeats) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  torch::mm_out(c, a, b);  // warm-up
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    torch::mm_out(c, a, b);
    times.push_back(since(t0));
  }
  std::sort(times.begin(), times.end());
  return 2.0 * static_cast<double>(n * n * n) / times[times.size() / 2] / 1e9;
}

Throughput bench_inversion_batched(const solvers::DecoderEngine& engine,
                                   const torch::Tensor& targets, const torch::Tensor& start,
                                   int64_t steps, int64_t chunk, int64_t workers) {
  solvers::InvertRequest request;
  request.settings.max_iterations = steps;
  request.chunk_size = chunk;
  request.workers = workers;
  request.show_progress = false;
  const auto t0 = Clock::now();
  solvers::invert(engine, targets, start, request);
  Throughput t;
  t.seconds = since(t0);
  t.items = targets.size(0) * steps;
  t.gflops = static_cast<double>(t.items) * (engine.forward_flops() + engine.backward_flops()) /
             t.seconds / 1e9;
  return t;
}

Throughput bench_inversion_one_by_one(const solvers::DecoderEngine& engine,
                                      const torch::Tensor& targets, const torch::Tensor& start,
                                      int64_t steps) {
  return bench_inversion_batched(engine, targets, start, steps, /*chunk=*/1, /*workers=*/1);
}

Throughput bench_inversion_autograd_one_by_one(model::Vae& vae, const torch::Tensor& targets,
                                               const torch::Tensor& start, int64_t steps) {
  solvers::Adafactor adafactor(solvers::SolverSettings{});
  auto decoder = vae->decoder();
  for (auto& p : decoder->parameters()) p.set_requires_grad(false);
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < targets.size(0); ++i) {
    auto z = targets.slice(0, i, i + 1);
    auto y = start.slice(0, i, i + 1).clone();
    auto v = torch::zeros_like(y);
    for (int64_t t = 1; t <= steps; ++t) {
      auto ya = y.detach().requires_grad_(true);
      auto loss = (z - torch::sigmoid(decoder->forward(ya))).square().sum();
      loss.backward();
      torch::NoGradGuard no_grad;
      y = ya.detach();
      adafactor.step(y, v, ya.grad(), t);
    }
  }
  for (auto& p : decoder->parameters()) p.set_requires_grad(true);
  Throughput t;
  t.seconds = since(t0);
  t.items = targets.size(0) * steps;
  solvers::DecoderEngine engine(decoder);
  t.gflops = static_cast<double>(t.items) * (engine.forward_flops() + engine.backward_flops()) /
             t.seconds / 1e9;
  return t;
}

Throughput bench_training(const model::VaeConfig& config, const torch::Tensor& images,
                          int64_t batch_size, double learning_rate) {
  torch::manual_seed(0);
  model::Vae vae(config);
  train::KerasAdam adam(vae->parameters(), train::AdamSettings{learning_rate});
  const int64_t steps = images.size(0) / batch_size;
  double optimizer_seconds = 0;
  auto step = [&](int64_t s) {
    auto x = images.slice(0, s * batch_size, (s + 1) * batch_size);
    auto loss = train::negative_elbo(vae->forward(x), x).mean();
    adam.zero_grad();
    loss.backward();
    const auto t_opt = Clock::now();
    adam.step();
    optimizer_seconds += since(t_opt);
  };
  step(0);  // warm-up (allocations)
  optimizer_seconds = 0;
  const auto t0 = Clock::now();
  for (int64_t s = 0; s < steps; ++s) step(s);
  Throughput t;
  t.seconds = since(t0);
  t.items = steps * batch_size;
  t.gflops = static_cast<double>(t.items) * training_flops_per_image(config) / t.seconds / 1e9;
  t.optimizer_seconds = optimizer_seconds;
  return t;
}

}  // namespace preimage::pipeline
