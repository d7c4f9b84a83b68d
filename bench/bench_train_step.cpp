// The VAE's training step and its optimizer alone, at the thesis's batch (32) and the fast
// preset's (128). Reports the step's matrix-product content as a rate (GFLOP/s) and the
// optimizer's memory traffic (GB/s: 7 float streams per parameter).
//   build/bench/bench_train_step
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "model/vae.h"
#include "pipeline/threads.h"
#include "train/adam.h"
#include "train/train_step.h"
#include "util/allocator.h"

namespace {

struct Setup {
  Setup() {
    preimage::util::keep_freed_memory();  // as preimage itself runs
    preimage::pipeline::configure_threads();
  }
};
void setup() {
  static Setup s;
}

void BM_AdamStep(benchmark::State& state) {
  setup();
  torch::manual_seed(0);
  preimage::model::Vae vae(preimage::model::VaeConfig{});
  preimage::train::KerasAdam adam(vae->parameters(), preimage::train::AdamSettings{1e-4});
  int64_t n = 0;
  for (auto& p : vae->parameters()) {
    p.mutable_grad() = torch::randn_like(p) * 1e-3;
    n += p.numel();
  }
  for (auto _ : state) adam.step();
  state.counters["GB/s"] = benchmark::Counter(
      7.0 * 4.0 * static_cast<double>(n) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdamStep)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arguments: the batch, then 1 for train_step (each layer updated during the backward pass) or
// 0 for train_step_reference (autograd, then KerasAdam::step).
void BM_TrainStep(benchmark::State& state) {
  setup();
  const int64_t batch = state.range(0);
  const bool fused = state.range(1) != 0;
  torch::manual_seed(0);
  preimage::model::Vae vae(preimage::model::VaeConfig{});
  preimage::train::KerasAdam adam(vae->parameters(), preimage::train::AdamSettings{1e-4});
  auto images = (torch::rand({batch * 16, 784}) > 0.8).to(torch::kFloat32);
  int64_t s = 0;
  for (auto _ : state) {
    auto x = images.slice(0, (s % 16) * batch, (s % 16 + 1) * batch);
    benchmark::DoNotOptimize(fused ? preimage::train::train_step(vae, adam, x)
                                   : preimage::train::train_step_reference(vae, adam, x));
    ++s;
  }
  // Matrix products per image: 3 x forward, less the images' own gradient (784 x 784).
  const double forward = 2.0 * (5 * 784 * 784 + 4 * 784) + 2.0 * (2 * 784 + 4 * 784 * 784);
  const double flops = 3.0 * forward - 2.0 * 784 * 784;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(batch) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep)
    ->ArgsProduct({{32, 128}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The step's matrix products alone, in its order: forward addmm per layer, then per layer from
// the last: weight gradient and input gradient (none for the images).
void BM_StepProductsOnly(benchmark::State& state) {
  setup();
  const int64_t batch = state.range(0);
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  preimage::model::Vae vae(preimage::model::VaeConfig{});
  std::vector<torch::nn::Linear> layers;
  for (auto& l : vae->encoder()->layers()) layers.push_back(l);
  for (auto& l : vae->decoder()->layers()) layers.push_back(l);
  const size_t encoder_layers = vae->encoder()->layers().size();
  auto x = (torch::rand({batch, 784}) > 0.8).to(torch::kFloat32);
  for (auto _ : state) {
    std::vector<torch::Tensor> inputs;
    torch::Tensor h = x;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (i == encoder_layers) h = h.slice(1, 0, 2).contiguous();  // the latent sample
      inputs.push_back(h);
      h = torch::addmm(layers[i]->bias, h, layers[i]->weight.t());
      if (i + 1 != encoder_layers && i + 1 != layers.size()) h = h.relu();
    }
    torch::Tensor g = h;
    for (size_t i = layers.size(); i-- > 0;) {
      if (i + 1 == encoder_layers) g = torch::randn({batch, 4});
      benchmark::DoNotOptimize(g.t().mm(inputs[i]));
      benchmark::DoNotOptimize(g.sum(0));
      if (i > 0) g = g.mm(layers[i]->weight);
    }
  }
  const double forward = 2.0 * (5 * 784 * 784 + 4 * 784) + 2.0 * (2 * 784 + 4 * 784 * 784);
  const double flops = 3.0 * forward - 2.0 * 784 * 784;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(batch) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StepProductsOnly)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Gemm2048(benchmark::State& state) {
  setup();
  auto a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048}),
       c = torch::empty({2048, 2048});
  for (auto _ : state) torch::mm_out(c, a, b);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * 2048 * 2048 * 2048 * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Gemm2048)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
