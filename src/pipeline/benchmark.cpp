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
#include "train/train_step.h"

namespace preimage::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// FLOPs of one training step per image in its matrix products: forward, input gradients and
// weight gradients, less the input gradient of the encoder's first layer (the images need none,
// and neither LibTorch's autograd nor the Python peer computes it).
double training_flops_per_image(const model::VaeConfig& c) {
  auto mlp = [](int64_t in, int64_t width, int64_t depth, int64_t out) {
    if (depth == 0) return 2.0 * static_cast<double>(in * out);
    double f = 2.0 * static_cast<double>(in * width + out * width);
    f += 2.0 * static_cast<double>((depth - 1) * width * width);
    return f;
  };
  const double forward = mlp(c.pixels(), c.hidden_width, c.encoder_depth, 2 * c.latent_dim) +
                         mlp(c.latent_dim, c.hidden_width, c.decoder_depth, c.pixels());
  const double first_input_gradient =
      2.0 * static_cast<double>(c.pixels() * (c.encoder_depth > 0 ? c.hidden_width
                                                                    : 2 * c.latent_dim));
  return 3.0 * forward - first_input_gradient;
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
                          int64_t batch_size, double learning_rate, int rounds) {
  torch::manual_seed(0);
  model::Vae vae(config);
  train::KerasAdam adam(vae->parameters(), train::AdamSettings{learning_rate});
  const int64_t steps = images.size(0) / batch_size;
  TORCH_CHECK(steps >= 1, "bench_training: ", images.size(0), " images, no batch of ", batch_size);
  auto batch = [&](int64_t s) { return images.slice(0, s * batch_size, (s + 1) * batch_size); };
  train::train_step(vae, adam, batch(0));  // warm-up (allocations, the optimizer's helper)
  const double flops = static_cast<double>(batch_size) * training_flops_per_image(config);
  // The steps in `rounds` runs, each after a GEMM timing of its own: each run's rate is taken as
  // a share of the GEMM rate measured just before it, and the median share reported, so that a
  // change of the machine's load between the GEMM and the training moves the figure less.
  rounds = static_cast<int>(std::clamp<int64_t>(rounds, 1, steps));
  std::vector<double> shares;
  Throughput t;
  for (int r = 0; r < rounds; ++r) {
    const int64_t first = steps * r / rounds, last = steps * (r + 1) / rounds;
    const double gemm = gemm_gflops(2048, 3);
    const auto t0 = Clock::now();
    for (int64_t s = first; s < last; ++s) train::train_step(vae, adam, batch(s));
    const double seconds = since(t0);
    shares.push_back(static_cast<double>(last - first) * flops / seconds / 1e9 / gemm);
    t.seconds += seconds;
  }
  t.items = steps * batch_size;
  t.gflops = static_cast<double>(steps) * flops / t.seconds / 1e9;
  std::sort(shares.begin(), shares.end());
  t.gemm_share = shares[shares.size() / 2];
  // The optimizer's share: its update of every parameter alone (KerasAdam::step on stand-in
  // gradients; train_step keeps none), scaled to the steps run.
  for (auto& p : vae->parameters()) p.mutable_grad() = torch::full_like(p, 1e-3);
  const int updates = 10;
  const auto t_opt = Clock::now();
  for (int k = 0; k < updates; ++k) adam.step();
  t.optimizer_seconds = since(t_opt) / updates * static_cast<double>(steps);
  return t;
}

namespace {
void run_inversion_benchmarks(const BenchConfig& cfg, model::Vae& vae, const torch::Tensor& images,
                              double gemm, const Row& row) {
  const auto model = decoders::vae_model(vae);
  const auto& decoder = *model.decoder;
  auto targets = images.slice(0, 0, cfg.images).contiguous();
  auto start = model.encoder->means(targets);
  auto share = [](double gflops, double gemm) { return 100 * gflops / gemm; };
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
}

void run_training_benchmarks(const BenchConfig& cfg, const model::VaeConfig& config,
                             const torch::Tensor& images, const Row& row) {
  // The fast preset's batch and step size, then the thesis preset's on a quarter of the images
  // (the same number of steps).
  const std::pair<int64_t, double> runs[] = {{cfg.train_batch, 5e-4}, {32, 1e-4}};
  for (const auto& [batch, lr] : runs) {
    const int64_t count = batch == cfg.train_batch ? cfg.train_images : cfg.train_images / 4;
    require(count >= batch, fmt::format("--train-images {} gives no batch of {}",
                                        cfg.train_images, batch),
            "give at least 4 batches of images");
    const auto t = bench_training(config, images.slice(0, 0, count), batch, lr);
    row(fmt::format("VAE training, batch {}{}, {} images", batch,
                    batch == 32 ? " (thesis)" : "", t.items),
        fmt::format("{:.0f} img/s (an epoch of 60000: {:.1f} s), {:.1f} GFLOP/s = {:.0f}% of GEMM; "
                    "optimizer step {:.0f}% of the time",
                    t.per_second(), 60000.0 / t.per_second(), t.gflops, 100 * t.gemm_share,
                    100 * t.optimizer_seconds / t.seconds));
  }
}

}  // namespace

void run_benchmarks(const BenchConfig& cfg, const Row& row) {
  torch::manual_seed(0);
  model::Vae vae = cfg.model.empty() ? model::Vae(model::VaeConfig{}) : model::load_vae(cfg.model);
  const int64_t count =
      cfg.training_only ? cfg.train_images : std::max(cfg.images, cfg.train_images);
  torch::Tensor images;
  try {
    images = data::load_dataset(cfg.data, {0, count}).images;
  } catch (const UserError& e) {
    spdlog::warn("{}: using random binary images", e.what());
    images = (torch::rand({count, vae->config().pixels()}) > 0.8).to(torch::kFloat32);
  }
  const double gemm = gemm_gflops();
  row("BLAS threads / LibTorch intra-op threads",
      fmt::format("{} / {}", util::blas_threads(), at::get_num_threads()));
  row("GEMM 2048x2048 float32", fmt::format("{:.1f} GFLOP/s", gemm));
  if (!cfg.training_only) run_inversion_benchmarks(cfg, vae, images, gemm, row);
  run_training_benchmarks(cfg, vae->config(), images, row);
}

}  // namespace preimage::pipeline
