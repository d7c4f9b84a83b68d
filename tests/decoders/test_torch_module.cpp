// The generic autograd decoder against the hand-written dense engine on the same network:
// outputs, vector-Jacobian products, Jacobians (by double backward) and the objective's
// derivatives agree to rounding, and every method of the registry reaches the same optimum
// through either.
#include <gtest/gtest.h>

#include "decoders/dense_relu.h"
#include "decoders/torch_module.h"
#include "solvers/invert.h"
#include "solvers/objective.h"
#include "solvers/registry.h"
#include "tiny_decoder.h"
#include "util/error.h"

using namespace preimage;

namespace {

// The same network as a generic module (its own forward, through autograd).
decoders::TorchModuleDecoder generic_of(model::Mlp network, int64_t latent, int64_t pixels,
                                        torch::Dtype dtype) {
  for (auto& p : network->parameters()) p.set_requires_grad(false);
  return decoders::TorchModuleDecoder([network](const torch::Tensor& y) mutable {
    return network->forward(y);
  }, latent, {pixels}, decoders::DecoderOutput::kLogits, torch::kCPU, dtype, "tiny MLP module");
}

}  // namespace

TEST(TorchModule, PassesMatchTheDenseEngine) {
  auto network = test_support::tiny_decoder(3, 10, 5, torch::kFloat64);
  decoders::DenseReluDecoder dense(network);
  auto generic = generic_of(network, 3, 10, torch::kFloat64);
  auto y = torch::randn({6, 3}, torch::kFloat64);
  decoders::Trace td, tg;
  auto ld = dense.forward(y, &td), lg = generic.forward(y, &tg);
  EXPECT_TRUE(torch::allclose(ld, lg, 1e-12, 1e-12));
  EXPECT_FALSE(lg.requires_grad()) << "logits come back without a graph";
  auto g = torch::randn({6, 10}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(dense.backward(td, g), generic.backward(tg, g), 1e-12, 1e-12));
  auto Jd = dense.jacobian(td), Jg = generic.jacobian(tg);
  ASSERT_EQ(Jg.sizes(), (std::vector<int64_t>{6, 3, 10}));
  EXPECT_TRUE(torch::allclose(Jd, Jg, 1e-12, 1e-12)) << (Jd - Jg).abs().max();
  // A selected trace has lost the batch's graph: the decoder rebuilds it.
  auto rows = torch::tensor({4, 1}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(dense.backward(td.select(rows), g.index_select(0, rows)),
                              generic.backward(tg.select(rows), g.index_select(0, rows)), 1e-12,
                              1e-12));
  EXPECT_TRUE(torch::allclose(Jd.index_select(0, rows), generic.jacobian(tg.select(rows)), 1e-12,
                              1e-12));
  EXPECT_FALSE(generic.activation_pattern(tg).defined()) << "a generic module says nothing of it";
}

TEST(TorchModule, ObjectiveDerivativesMatchTheDenseEngine) {
  auto network = test_support::tiny_decoder(2, 12, 7, torch::kFloat64);
  decoders::DenseReluDecoder dense(network);
  auto generic = generic_of(network, 2, 12, torch::kFloat64);
  auto z = (torch::rand({5, 12}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto y = torch::randn({5, 2}, torch::kFloat64);
  for (auto kind : {solvers::LossKind::kSquaredError, solvers::LossKind::kBernoulli}) {
    const auto spec = test_support::masked_loss_with_prior(kind, 0.3, 12);
    auto ed = solvers::Objective(dense, spec, z).evaluate(y, true, true);
    auto eg = solvers::Objective(generic, spec, z).evaluate(y, true, true);
    EXPECT_TRUE(torch::allclose(ed.value, eg.value, 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(ed.grad, eg.grad, 1e-10, 1e-10));
    EXPECT_TRUE(torch::allclose(ed.gn, eg.gn, 1e-10, 1e-10));
  }
}

// Every method through the generic path ends where it ends through the fast one.
class GenericMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(GenericMethod, SameResultsAsTheFastEngine) {
  auto network = test_support::tiny_decoder(2, 16, 21, torch::kFloat64);
  decoders::DenseReluDecoder dense(network);
  auto generic = generic_of(network, 2, 16, torch::kFloat64);
  torch::manual_seed(3);
  auto z = (torch::rand({12, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto start = 0.5 * torch::randn({12, 2}, torch::kFloat64);
  solvers::InvertRequest request;
  request.method = GetParam();
  request.settings = solvers::settings_for(GetParam());
  request.settings.stop.max_iterations = std::min<int64_t>(request.settings.stop.max_iterations, 60);
  request.show_progress = false;
  request.workers = 1;
  if (solvers::method_spec(GetParam()).needs_encoder)
    request.encoder = std::make_shared<decoders::FunctionEncoder>(2, [](const torch::Tensor& x) {
      return x.slice(1, 0, 2) - 0.5;  // any fixed map of the images
    });
  auto fast = solvers::invert(dense, z, start, request);
  auto slow = solvers::invert(generic, z, start, request);
  // Gauss-Newton reuses Jacobians where the dense engine reports the activation pattern, and
  // recomputes them through the generic path: the same steps up to rounding.
  EXPECT_TRUE(torch::allclose(fast.final_loss, slow.final_loss, 1e-6, 1e-8))
      << GetParam() << "\n" << fast.final_loss - slow.final_loss;
  EXPECT_TRUE(torch::allclose(fast.latents, slow.latents, 1e-4, 1e-5))
      << GetParam() << "\n" << fast.latents - slow.latents;
}

INSTANTIATE_TEST_SUITE_P(Registry, GenericMethod, ::testing::ValuesIn(solvers::method_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(TorchModule, ProbabilitiesAndImageShapedOutputs) {
  auto network = test_support::tiny_decoder(2, 12, 9, torch::kFloat64);
  for (auto& p : network->parameters()) p.set_requires_grad(false);
  // The same network ending with a sigmoid, its output shaped (B, 1, 3, 4).
  decoders::TorchModuleDecoder shaped(
      [network](const torch::Tensor& y) mutable {
        return torch::sigmoid(network->forward(y)).view({y.size(0), 1, 3, 4});
      },
      2, {1, 3, 4}, decoders::DecoderOutput::kProbabilities, torch::kCPU, torch::kFloat64,
      "shaped");
  EXPECT_EQ(shaped.pixels(), 12);
  auto y = 0.3 * torch::randn({4, 2}, torch::kFloat64);
  decoders::Trace trace;
  auto logits = shaped.forward(y, &trace);
  EXPECT_TRUE(torch::allclose(logits, network->forward(y), 1e-8, 1e-8));
  decoders::DenseReluDecoder dense(network);
  decoders::Trace td;
  dense.forward(y, &td);
  EXPECT_TRUE(torch::allclose(shaped.jacobian(trace), dense.jacobian(td), 1e-7, 1e-7));
}

TEST(TorchModule, EncoderOutputs) {
  using decoders::encoding_of;
  auto mean = torch::randn({3, 2}), logvar = torch::randn({3, 2});
  auto e = encoding_of(c10::IValue(mean), 3, 2, "E");
  EXPECT_TRUE(torch::equal(e.mean, mean));
  EXPECT_FALSE(e.logvar.defined());
  e = encoding_of(c10::IValue(torch::cat({mean, logvar}, 1)), 3, 2, "E");  // the thesis's split
  EXPECT_TRUE(torch::equal(e.mean, mean));
  EXPECT_TRUE(torch::equal(e.logvar, logvar));
  e = encoding_of(c10::ivalue::Tuple::create({mean, logvar}), 3, 2, "E");
  EXPECT_TRUE(torch::equal(e.logvar, logvar));
  EXPECT_THROW(encoding_of(c10::IValue(torch::randn({3, 5})), 3, 2, "E"), UserError);
  EXPECT_THROW(encoding_of(c10::ivalue::Tuple::create({mean}), 3, 2, "E"), UserError);
}

// Where a GPU is there: every method with its state on the device gives the CPU's results, through
// the fast engine and through the generic module. Skipped, and said so, without CUDA.
TEST(Gpu, TheSolversRunOnTheDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device here: the GPU test is skipped";
  const torch::Device gpu(torch::kCUDA, 0);
  auto network = test_support::tiny_decoder(2, 16, 21, torch::kFloat64);
  decoders::DenseReluDecoder cpu_dense(network);
  std::vector<torch::Tensor> w, b;
  for (const auto& layer : network->layers()) {
    w.push_back(layer->weight.detach().to(gpu));
    b.push_back(layer->bias.detach().to(gpu));
  }
  decoders::DenseReluDecoder gpu_dense(w, b);
  auto gpu_network = test_support::tiny_decoder(2, 16, 21, torch::kFloat64);
  gpu_network->to(gpu);
  for (auto& p : gpu_network->parameters()) p.set_requires_grad(false);
  decoders::TorchModuleDecoder gpu_generic(
      [gpu_network](const torch::Tensor& y) mutable { return gpu_network->forward(y); }, 2, {16},
      decoders::DecoderOutput::kLogits, gpu, torch::kFloat64, "tiny MLP on the GPU");
  torch::manual_seed(3);
  auto z = (torch::rand({12, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto start = 0.5 * torch::randn({12, 2}, torch::kFloat64);
  for (const std::string method : {"adafactor", "lbfgs", "gauss-newton", "grid"}) {
    solvers::InvertRequest request;
    request.method = method;
    request.settings = solvers::settings_for(method);
    request.show_progress = false;
    auto on_cpu = solvers::invert(cpu_dense, z, start, request);
    for (const decoders::Decoder* decoder :
         {static_cast<const decoders::Decoder*>(&gpu_dense),
          static_cast<const decoders::Decoder*>(&gpu_generic)}) {
      auto on_gpu = solvers::invert(*decoder, z.to(gpu), start.to(gpu), request);
      EXPECT_TRUE(on_gpu.latents.is_cuda()) << method;
      EXPECT_TRUE(torch::allclose(on_gpu.final_loss.cpu(), on_cpu.final_loss, 1e-6, 1e-8))
          << method << " through " << decoder->describe();
    }
  }
}
