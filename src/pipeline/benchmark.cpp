#include "pipeline/benchmark.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "decoders/model_source.h"
#include "model/checkpoint.h"
#include "solvers/adafactor.h"
#include "solvers/invert.h"
#include "util/blas_threads.h"
#include "util/error.h"
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

Throughput bench_inversion_batched(const decoders::Decoder& decoder,
                                   const torch::Tensor& targets, const torch::Tensor& start,
                                   int64_t steps, int64_t chunk, int64_t workers) {
  solvers::InvertRequest request;
  request.settings.stop.max_iterations = steps;
  request.chunk_size = chunk;
  request.workers = workers;
  request.show_progress = false;
  const auto t0 = Clock::now();
  solvers::invert(decoder, targets, start, request);
  Throughput t;
  t.seconds = since(t0);
  t.items = targets.size(0) * steps;
  t.gflops = static_cast<double>(t.items) * (decoder.forward_flops() + decoder.backward_flops()) /
             t.seconds / 1e9;
  return t;
}

Throughput bench_inversion_one_by_one(const decoders::Decoder& decoder,
                                      const torch::Tensor& targets, const torch::Tensor& start,
                                      int64_t steps) {
  return bench_inversion_batched(decoder, targets, start, steps, /*chunk=*/1, /*workers=*/1);
}

Throughput bench_inversion_autograd_one_by_one(model::Vae& vae, const torch::Tensor& targets,
                                               const torch::Tensor& start, int64_t steps) {
  solvers::Adafactor adafactor(solvers::settings_for("adafactor"));
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
  const auto model = decoders::vae_model(vae);  // for its FLOP count
  t.gflops = static_cast<double>(t.items) *
             (model.decoder->forward_flops() + model.decoder->backward_flops()) / t.seconds / 1e9;
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

void run_benchmarks(const BenchConfig& cfg,
                    const std::function<void(const std::string&, const std::string&)>& row) {
  torch::manual_seed(0);
  model::Vae vae = cfg.model.empty() ? model::Vae(model::VaeConfig{}) : model::load_vae(cfg.model);
  const auto model = decoders::vae_model(vae);
  torch::Tensor images;
  try {
    images = data::load_dataset(cfg.data, {0, std::max(cfg.images, cfg.train_images)}).images;
  } catch (const UserError& e) {
    spdlog::warn("{}: using random binary images", e.what());
    images = (torch::rand({std::max(cfg.images, cfg.train_images), vae->config().pixels()}) > 0.8)
                 .to(torch::kFloat32);
  }
  const auto& decoder = *model.decoder;
  auto targets = images.slice(0, 0, cfg.images).contiguous();
  auto start = model.encoder->means(targets);
  auto share = [](double gflops, double gemm) { return 100 * gflops / gemm; };

  const double gemm = gemm_gflops();
  row("BLAS threads / LibTorch intra-op threads",
      fmt::format("{} / {}", util::blas_threads(), at::get_num_threads()));
  row("GEMM 2048x2048 float32", fmt::format("{:.1f} GFLOP/s", gemm));
  const auto batched = bench_inversion_batched(decoder, targets, start, cfg.steps, cfg.chunk);
  row(fmt::format("faithful inversion, {} images x {} steps, batched", cfg.images, cfg.steps),
      fmt::format("{:.2f} s, {:.0f} image-steps/s, {:.1f} GFLOP/s = {:.0f}% of GEMM",
                  batched.seconds, batched.per_second(), batched.gflops,
                  share(batched.gflops, gemm)));
  const auto few = [&](const torch::Tensor& t) { return t.slice(0, 0, cfg.single_images); };
  const auto single = bench_inversion_one_by_one(decoder, few(targets), few(start), cfg.steps);
  row(fmt::format("same, one image at a time ({} images, as the thesis)", cfg.single_images),
      fmt::format("{:.2f} s, {:.0f} image-steps/s, {:.1f} GFLOP/s = {:.1f}% of GEMM",
                  single.seconds, single.per_second(), single.gflops,
                  share(single.gflops, gemm)));
  const auto tape = bench_inversion_autograd_one_by_one(vae, few(targets), few(start), cfg.steps);
  row("same, one image at a time with autograd per step (the thesis's way)",
      fmt::format("{:.2f} s, {:.0f} image-steps/s, {:.1f} GFLOP/s = {:.1f}% of GEMM",
                  tape.seconds, tape.per_second(), tape.gflops, share(tape.gflops, gemm)));
  row("batched / one at a time (same engine)",
      fmt::format("{:.0f}x", batched.per_second() / single.per_second()));
  row("batched / one at a time (autograd, the thesis's way)",
      fmt::format("{:.0f}x", batched.per_second() / tape.per_second()));
  // The thesis's 1.2 s per image (150 steps on its GPU) against this run's time per image,
  // scaled to 150 steps.
  const double per_image_150 =
      batched.seconds / static_cast<double>(cfg.images) * 150.0 / static_cast<double>(cfg.steps);
  row("thesis (1.2 s per image on a GPU) / batched, per image",
      fmt::format("{:.0f}x", 1.2 / per_image_150));
  const auto train = bench_training(vae->config(), images.slice(0, 0, cfg.train_images),
                                    cfg.train_batch, 5e-4);
  row(fmt::format("VAE training, batch {}, {} images", cfg.train_batch, train.items),
      fmt::format("{:.0f} img/s (an epoch of 60000: {:.1f} s), {:.1f} GFLOP/s = {:.0f}% of GEMM; "
                  "optimizer step {:.0f}% of the time",
                  train.per_second(), 60000.0 / train.per_second(), train.gflops,
                  share(train.gflops, gemm), 100 * train.optimizer_seconds / train.seconds));
  const auto train32 =
      bench_training(vae->config(), images.slice(0, 0, cfg.train_images / 4), 32, 1e-4);
  row(fmt::format("VAE training, batch 32 (thesis), {} images", train32.items),
      fmt::format("{:.0f} img/s (an epoch: {:.1f} s), {:.1f} GFLOP/s = {:.0f}% of GEMM",
                  train32.per_second(), 60000.0 / train32.per_second(), train32.gflops,
                  share(train32.gflops, gemm)));
}

}  // namespace preimage::pipeline
