// preimage bench: throughput of the inversion and the training, as ratios to the GEMM rate.
#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/dataset.h"
#include "model/checkpoint.h"
#include "pipeline/benchmark.h"
#include "pipeline/encode_step.h"
#include "pipeline/threads.h"
#include "util/blas_threads.h"
#include "util/error.h"

namespace preimage::cli {
namespace {

struct BenchConfig {
  std::string model;            // a checkpoint (default: a fresh thesis-architecture VAE)
  int64_t images = 5000;        // images of the batched inversion (the thesis's 5000)
  int64_t steps = 150;          // Adafactor steps (the thesis's 150)
  int64_t single_images = 20;   // images inverted one at a time
  int64_t chunk = 0;            // images solved together (0: automatic, see InvertRequest)
  int64_t train_images = 12800; // images of the timed training pass
  int64_t train_batch = 128;    // batch of the timed training pass (the fast preset)
  data::DataSpec data;
};

void execute(const BenchConfig& cfg) {
  torch::manual_seed(0);
  model::Vae vae = cfg.model.empty() ? model::Vae(model::VaeConfig{}) : model::load_vae(cfg.model);
  torch::Tensor images;
  try {
    images = data::load_dataset(cfg.data, {0, std::max(cfg.images, cfg.train_images)}).images;
  } catch (const UserError& e) {
    spdlog::warn("{}: using random binary images", e.what());
    images = (torch::rand({std::max(cfg.images, cfg.train_images), vae->config().pixels()}) > 0.8)
                 .to(torch::kFloat32);
  }
  solvers::DecoderEngine engine(vae->decoder());
  auto targets = images.slice(0, 0, cfg.images).contiguous();
  auto start = pipeline::encoder_means(vae, targets, 5000);

  const double gemm = pipeline::gemm_gflops();
  std::printf("| Benchmark | Figure |\n|---|---|\n");
  std::printf("| BLAS threads / LibTorch intra-op threads | %d / %d |\n",
              util::blas_threads(), at::get_num_threads());
  std::printf("| GEMM 2048x2048 float32 | %.1f GFLOP/s |\n", gemm);
  std::fflush(stdout);
  const auto batched = pipeline::bench_inversion_batched(engine, targets, start, cfg.steps, cfg.chunk);
  std::printf("| faithful inversion, %lld images x %lld steps, batched | %.2f s, %.0f image-steps/s, "
              "%.1f GFLOP/s = %.0f%% of GEMM |\n",
              static_cast<long long>(cfg.images), static_cast<long long>(cfg.steps),
              batched.seconds, batched.per_second(), batched.gflops, 100 * batched.gflops / gemm);
  std::fflush(stdout);
  const auto single = pipeline::bench_inversion_one_by_one(
      engine, targets.slice(0, 0, cfg.single_images), start.slice(0, 0, cfg.single_images),
      cfg.steps);
  std::printf("| same, one image at a time (%lld images, as the thesis) | %.2f s, %.0f image-steps/s, "
              "%.1f GFLOP/s = %.1f%% of GEMM |\n",
              static_cast<long long>(cfg.single_images), single.seconds, single.per_second(),
              single.gflops, 100 * single.gflops / gemm);
  const auto tape = pipeline::bench_inversion_autograd_one_by_one(
      vae, targets.slice(0, 0, cfg.single_images), start.slice(0, 0, cfg.single_images), cfg.steps);
  std::printf("| same, one image at a time with autograd per step (the thesis's way) | %.2f s, "
              "%.0f image-steps/s, %.1f GFLOP/s = %.1f%% of GEMM |\n",
              tape.seconds, tape.per_second(), tape.gflops, 100 * tape.gflops / gemm);
  std::printf("| batched / one at a time (engine) | %.0fx |\n",
              batched.per_second() / single.per_second());
  std::printf("| batched / one at a time (autograd, the thesis's way) | %.0fx |\n",
              batched.per_second() / tape.per_second());
  std::printf("| thesis (1.2 s per image on a GPU) / batched, per image | %.0fx |\n",
              1.2 / (batched.seconds / static_cast<double>(cfg.images) * 150.0 / static_cast<double>(cfg.steps)));
  std::fflush(stdout);
  const auto train = pipeline::bench_training(vae->config(), images.slice(0, 0, cfg.train_images),
                                              cfg.train_batch, 5e-4);
  std::printf("| VAE training, batch %lld, %lld images | %.0f img/s (an epoch of 60000: %.1f s), "
              "%.1f GFLOP/s = %.0f%% of GEMM; optimizer step %.0f%% of the time |\n",
              static_cast<long long>(cfg.train_batch), static_cast<long long>(train.items),
              train.per_second(), 60000.0 / train.per_second(), train.gflops,
              100 * train.gflops / gemm, 100 * train.optimizer_seconds / train.seconds);
  const auto train32 = pipeline::bench_training(
      vae->config(), images.slice(0, 0, cfg.train_images / 4), 32, 1e-4);
  std::printf("| VAE training, batch 32 (thesis), %lld images | %.0f img/s (an epoch: %.1f s), "
              "%.1f GFLOP/s = %.0f%% of GEMM |\n",
              static_cast<long long>(train32.items), train32.per_second(),
              60000.0 / train32.per_second(), train32.gflops, 100 * train32.gflops / gemm);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto cfg = std::make_shared<BenchConfig>();
  auto* cmd = app.add_subcommand(
      "bench", "Throughput of inversion and training, as fractions of the GEMM rate");
  cmd->add_option("--model", cfg->model, "VAE checkpoint (default: a fresh thesis VAE)");
  cmd->add_option("--images", cfg->images, "Images of the batched inversion")->capture_default_str();
  cmd->add_option("--steps", cfg->steps, "Adafactor steps")->capture_default_str();
  cmd->add_option("--single-images", cfg->single_images, "Images inverted one at a time")
      ->capture_default_str();
  add_chunk_option(*cmd, cfg->chunk);
  cmd->add_option("--train-images", cfg->train_images, "Images of the timed training pass")
      ->capture_default_str();
  add_data_options(*cmd, cfg->data);
  cmd->callback([cfg] { execute(*cfg); });
}

}  // namespace preimage::cli
