// preimage bench: throughput of the inversion and the training, as ratios to the GEMM rate
// measured in the same process (pipeline/benchmark.h).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/benchmark.h"

namespace preimage::cli {

void add_bench_command(CLI::App& app) {
  auto cfg = std::make_shared<pipeline::BenchConfig>();
  auto data = std::make_shared<DataFlags>();
  auto* cmd = app.add_subcommand(
      "bench", "Throughput of inversion and training, as fractions of the GEMM rate");
  cmd->add_option("--model", cfg->model, "VAE checkpoint (default: a fresh thesis VAE)");
  cmd->add_option("--images", cfg->images, "Images of the batched inversion")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--steps", cfg->steps, "Adafactor steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--single-images", cfg->single_images, "Images inverted one at a time")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_chunk_option(*cmd, cfg->chunk);
  cmd->add_option("--train-images", cfg->train_images, "Images of the timed training pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--training-only", cfg->training_only,
                "Only the GEMM rate and the training rows (batch 128 and 32)");
  add_data_options(*cmd, cfg->data, *data);
  cmd->callback([cfg, data] {
    finish_data_options(cfg->data, *data);
    std::printf("| Benchmark | Figure |\n|---|---|\n");
    pipeline::run_benchmarks(*cfg, [](const std::string& name, const std::string& value) {
      std::printf("| %s | %s |\n", name.c_str(), value.c_str());
      std::fflush(stdout);
    });
  });
}

}  // namespace preimage::cli
