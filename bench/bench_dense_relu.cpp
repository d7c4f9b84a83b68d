// The dense ReLU decoder's passes on the thesis's decoder (2 -> 4 x 784 ReLU -> 784), for 2000
// latents at a time (the inversion's chunk) down to 250 (the images still running in a chunk's
// late iterations), against the plain GEMM they are made of. Each benchmark reports its GEMM
// content as a rate (GFLOP/s): a pass at the GEMM benchmark's rate for the same rows spends no
// time outside its matrix products.
//   build/bench/bench_dense_relu
#include <benchmark/benchmark.h>

#include <torch/torch.h>

#include "model/mlp.h"
#include "pipeline/threads.h"
#include "decoders/dense_relu.h"
#include "util/allocator.h"

namespace {

struct Decoder {
  preimage::model::Mlp decoder{preimage::model::MlpShape{2, 784, 4, 784}};
  preimage::decoders::DenseReluDecoder engine{decoder};
  Decoder() {
    preimage::util::keep_freed_memory();  // as preimage itself runs
    preimage::pipeline::configure_threads();
  }
};
const preimage::decoders::DenseReluDecoder& engine() {
  static Decoder d;
  return d.engine;
}

// `rows` random latents decoded, with their trace.
struct Points {
  int64_t rows;
  torch::Tensor y, logits;
  preimage::decoders::Trace trace;
  explicit Points(int64_t n) : rows(n) {
    torch::manual_seed(1);
    y = torch::randn({rows, 2});
    logits = engine().forward(y, &trace);
  }
  // GEMM FLOPs of one forward pass over the rows.
  double pass_flops() const { return static_cast<double>(rows) * engine().forward_flops(); }
};

void report(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops_per_iteration * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

// The matrix products of one forward pass alone: 4 products (rows x 784) x (784 x 784).
void BM_Gemm(benchmark::State& state) {
  const int64_t rows = state.range(0);
  auto a = torch::randn({rows, 784});
  auto w = torch::randn({784, 784});
  for (auto _ : state)
    for (int i = 0; i < 4; ++i) benchmark::DoNotOptimize(a.mm(w.t()));
  report(state, 4 * 2.0 * static_cast<double>(rows) * 784 * 784);
}

void BM_Forward(benchmark::State& state) {
  Points p(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(engine().forward(p.y));
  report(state, p.pass_flops());
}

void BM_ForwardWithTrace(benchmark::State& state) {
  Points p(state.range(0));
  for (auto _ : state) {
    preimage::decoders::Trace trace;
    benchmark::DoNotOptimize(engine().forward(p.y, &trace));
  }
  report(state, p.pass_flops());
}

void BM_Backward(benchmark::State& state) {
  Points p(state.range(0));
  auto g = torch::randn_like(p.logits);
  for (auto _ : state) benchmark::DoNotOptimize(engine().backward(p.trace, g));
  report(state, p.pass_flops());
}

// Forward mode for L = 2: two tangents through every layer, two passes' worth of products.
void BM_Jacobian(benchmark::State& state) {
  Points p(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(engine().jacobian(p.trace));
  report(state, 2 * p.pass_flops());
}

}  // namespace

#define PASS_BENCHMARK(name) \
  BENCHMARK(name)->Arg(2000)->Arg(1000)->Arg(250)->Unit(benchmark::kMillisecond)
PASS_BENCHMARK(BM_Gemm);
PASS_BENCHMARK(BM_Forward);
PASS_BENCHMARK(BM_ForwardWithTrace);
PASS_BENCHMARK(BM_Backward);
PASS_BENCHMARK(BM_Jacobian);
BENCHMARK_MAIN();
