// The local methods on decoders whose optimum is known; the safeguard; the box flag;
// batched = alone.
#include <algorithm>

#include <gtest/gtest.h>

#include "solvers/gauss_newton.h"
#include "solvers/invert.h"
#include "solvers/registry.h"
#include "solvers/solver.h"
#include "tiny_decoder.h"
#include "util/error.h"

using namespace preimage;
using solvers::SolverSettings;

namespace {

// Targets that are exactly decodings of known latents y*: the loss is 0 at y*.
struct KnownOptimum {
  model::Mlp decoder = test_support::tiny_decoder(2, 16, 21, torch::kFloat64);
  decoders::DenseReluDecoder engine{decoder};
  torch::Tensor y_star = torch::tensor({{0.3, -0.4}, {1.0, 0.5}, {-0.7, 0.2}, {0.1, 0.9}},
                                       torch::kFloat64);
  torch::Tensor targets = torch::sigmoid(engine.forward(y_star));
};

// The method's defaults, stopping on the gradient only, tightly.
SolverSettings tight_settings(const std::string& method) {
  auto s = solvers::settings_for(method);
  s.stop.gradient_tolerance = 1e-9;
  s.stop.relative_tolerance = 0;
  return s;
}

}  // namespace

class LocalMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(LocalMethod, ConvergesToAKnownOptimum) {
  KnownOptimum k;
  torch::manual_seed(4);
  auto start = k.y_star + 0.05 * torch::randn_like(k.y_star);
  solvers::Objective f(k.engine, {}, k.targets);
  auto settings = tight_settings(GetParam());
  if (GetParam() == "gd") settings.options.step_size.learning_rate = 0.5, settings.stop.max_iterations = 20000;
  if (GetParam() == "adam") settings.options.step_size.learning_rate = 1e-3, settings.stop.max_iterations = 5000;
  auto sol = solvers::make_solver(GetParam(), settings)->solve(f, start);
  const double tol = (GetParam() == "gauss-newton" || GetParam() == "lbfgs") ? 1e-5 : 2e-3;
  EXPECT_LT(sol.final_loss.max().item<double>(), tol * tol * 100) << sol.final_loss;
  EXPECT_LT((sol.latents - k.y_star).abs().max().item<double>(), tol)
      << sol.latents << " vs " << k.y_star;
  EXPECT_TRUE((sol.stop_reason != static_cast<int64_t>(solvers::StopReason::kMaxIterations))
                  .all()
                  .item<bool>())
      << "every image stops by its own criterion: " << sol.stop_reason;
  EXPECT_TRUE((sol.iterations > 0).all().item<bool>());
}

TEST_P(LocalMethod, NeverReturnsWorseThanItsStart) {
  auto dec = test_support::tiny_decoder(2, 16, 5);
  decoders::DenseReluDecoder engine(dec);
  auto z = (torch::rand({40, 16}) > 0.5).to(torch::kFloat32);
  auto start = 2 * torch::randn({40, 2});
  solvers::Objective f(engine, {}, z);
  auto settings = solvers::settings_for(GetParam());
  settings.options.step_size.learning_rate = 5.0;  // deliberately too large for gd/adam: they overshoot
  settings.stop.max_iterations = 30;
  auto sol = solvers::make_solver(GetParam(), settings)->solve(f, start);
  EXPECT_TRUE((sol.final_loss <= sol.initial_loss + 1e-6).all().item<bool>());
  EXPECT_TRUE(torch::allclose(sol.final_loss, f.value(sol.latents)));
}

TEST_P(LocalMethod, BatchedEqualsAlone) {
  auto dec = test_support::tiny_decoder(2, 16, 8, torch::kFloat64);
  decoders::DenseReluDecoder engine(dec);
  // float64 and a batch of 50: every per-image quantity is computed row by row (GEMM rows do not
  // mix), so one image alone and in a batch agree to rounding, and so do their stopping decisions.
  auto z = (torch::rand({50, 16}, torch::kFloat64) > 0.5).to(torch::kFloat64);
  auto start = torch::randn({50, 2}, torch::kFloat64);
  solvers::InvertRequest req;
  req.method = GetParam();
  req.settings = solvers::settings_for(GetParam());
  req.settings.stop.max_iterations = 50;
  req.show_progress = false;
  auto batched = solvers::invert(engine, z, start, req);
  for (int64_t i : {0, 9, 31, 49}) {
    auto one = solvers::invert(engine, z.slice(0, i, i + 1), start.slice(0, i, i + 1), req);
    EXPECT_TRUE(torch::allclose(one.latents[0], batched.latents[i], 1e-9, 1e-9))
        << GetParam() << " image " << i;
    EXPECT_EQ(one.iterations[0].item<int64_t>(), batched.iterations[i].item<int64_t>());
  }
}

// Chunks solved by several workers at once: the same results, bit for bit, as one worker (each
// chunk is solved with a single-threaded BLAS either way), in the same order, curves included.
TEST_P(LocalMethod, WorkersDoNotChangeTheResults) {
  auto dec = test_support::tiny_decoder(2, 16, 9);
  decoders::DenseReluDecoder engine(dec);
  auto z = (torch::rand({50, 16}) > 0.5).to(torch::kFloat32);
  auto start = torch::randn({50, 2});
  solvers::InvertRequest req;
  req.method = GetParam();
  req.settings = solvers::settings_for(GetParam());
  req.settings.stop.max_iterations = 30;
  req.curve_images = {3, 20, 48};
  req.chunk_size = 7;  // 8 chunks, the last one short
  req.show_progress = false;
  req.workers = 1;
  auto one = solvers::invert(engine, z, start, req);
  req.workers = 3;
  ASSERT_EQ(solvers::plan_chunks(req, 50, torch::kCPU).workers, 3);
  auto three = solvers::invert(engine, z, start, req);
  EXPECT_TRUE(torch::equal(one.latents, three.latents)) << GetParam();
  EXPECT_TRUE(torch::equal(one.final_loss, three.final_loss));
  EXPECT_TRUE(torch::equal(one.iterations, three.iterations));
  EXPECT_TRUE(torch::equal(one.stop_reason, three.stop_reason));
  ASSERT_EQ(three.curves.size(0), 3);
  EXPECT_TRUE(torch::allclose(one.curves, three.curves, 0, 0, /*equal_nan=*/true));
}

// Every method of the registry that stops by a rule of its own (not the thesis's fixed steps) and
// needs nothing but the decoder: a new method is tested here by its registry row alone.
std::vector<std::string> stopping_methods() {
  std::vector<std::string> names;
  for (const auto& row : solvers::method_registry()) {
    const auto& stop = row.defaults.stop;
    if (!row.needs_encoder && (stop.gradient_tolerance > 0 || stop.relative_tolerance > 0))
      names.push_back(row.name);
  }
  return names;
}
INSTANTIATE_TEST_SUITE_P(Methods, LocalMethod, ::testing::ValuesIn(stopping_methods()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Solvers, OptimumAtInfinityIsFlagged) {
  // Small positive weights and biases: every logit grows slowly along (1, 1), and an all-ones
  // target has its infimum (0) only as y -> infinity.
  torch::manual_seed(0);
  model::Mlp dec(model::MlpShape{2, 8, 1, 6});
  {
    torch::NoGradGuard no_grad;
    for (auto& layer : dec->layers()) {
      layer->weight.uniform_(0.05, 0.1);
      layer->bias.fill_(0.1);
    }
  }
  decoders::DenseReluDecoder engine(dec);
  solvers::Objective f(engine, {}, torch::ones({1, 6}));
  auto settings = solvers::settings_for("gauss-newton");
  settings.box_radius = 2.0;
  settings.stop.max_iterations = 200;
  settings.stop.gradient_tolerance = 0;  // the gradient fades as the sigmoid saturates: keep going
  settings.stop.relative_tolerance = 0;
  auto sol = solvers::make_solver("gauss-newton", settings)->solve(f, torch::ones({1, 2}));
  EXPECT_TRUE(sol.left_box[0].item<bool>()) << sol.latents;
  EXPECT_EQ(sol.stop_reason[0].item<int64_t>(), static_cast<int64_t>(solvers::StopReason::kDiverged))
      << "an iterate that keeps growing is stopped and flagged";
  EXPECT_LT(sol.final_loss[0].item<double>(), sol.initial_loss[0].item<double>());

  // The prior term lambda |y|^2 makes the problem well posed: the solution stays bounded.
  solvers::LossSpec with_prior;
  with_prior.prior_weight = 0.1;
  solvers::Objective g(engine, with_prior, torch::ones({1, 6}));
  auto bounded = solvers::make_solver("gauss-newton", settings)->solve(g, torch::ones({1, 2}));
  EXPECT_FALSE(bounded.left_box[0].item<bool>()) << bounded.latents;
}

TEST(Invert, PlansChunksForTheWorkers) {
  solvers::InvertRequest req;
  auto sizes = [](const solvers::ChunkPlan& plan) {
    std::vector<int64_t> out;
    for (int64_t c = 0; c < plan.chunks(); ++c) out.push_back(plan.bounds[c + 1] - plan.bounds[c]);
    return out;
  };
  // Given sizes: chunks of that size, the last one shorter; a worker per chunk at most.
  req.chunk_size = 7;
  req.workers = 20;
  auto plan = solvers::plan_chunks(req, 50, torch::kCPU);
  EXPECT_EQ(plan.workers, 8);
  EXPECT_EQ(sizes(plan), (std::vector<int64_t>{7, 7, 7, 7, 7, 7, 7, 1}));
  // Automatic: at most 2000 images a chunk, a multiple of the workers' count of chunks.
  req.chunk_size = 0;
  req.workers = 2;
  EXPECT_EQ(sizes(solvers::plan_chunks(req, 5000, torch::kCPU)),
            (std::vector<int64_t>{1250, 1250, 1250, 1250}));
  plan = solvers::plan_chunks(req, 60000, torch::kCPU);
  EXPECT_EQ(plan.chunks(), 30);
  EXPECT_EQ(plan.largest_chunk(), 2000);
  EXPECT_EQ(sizes(solvers::plan_chunks(req, 3, torch::kCPU)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(solvers::plan_chunks(req, 1, torch::kCPU).workers, 1);
  req.workers = 16;
  plan = solvers::plan_chunks(req, 60000, torch::kCPU);
  EXPECT_EQ(plan.chunks(), 32);
  EXPECT_EQ(plan.largest_chunk(), 1875);
  EXPECT_EQ(plan.bounds.back(), 60000);
  // Automatic workers: at least one on the CPU, one off it.
  req.workers = 0;
  EXPECT_GE(solvers::plan_chunks(req, 5000, torch::kCPU).workers, 1);
  EXPECT_EQ(solvers::plan_chunks(req, 5000, torch::Device(torch::kCUDA)).workers, 1);
  req.workers = -1;
  EXPECT_THROW(solvers::plan_chunks(req, 50, torch::kCPU), UserError);
  req.workers = 0;
  req.chunk_size = -5;
  EXPECT_THROW(solvers::plan_chunks(req, 50, torch::kCPU), UserError);
}

// A chunk that fails on a worker stops the others from starting new chunks and reaches the
// caller as the error it was.
TEST(Solvers, AWorkersErrorReachesTheCaller) {
  auto dec = test_support::tiny_decoder(2, 16, 9);
  decoders::DenseReluDecoder engine(dec);
  solvers::InvertRequest req;
  req.method = "fixed-point";  // needs the model's encoder, and none is given
  req.settings = solvers::settings_for(req.method);
  req.chunk_size = 4;
  req.workers = 2;
  req.show_progress = false;
  EXPECT_THROW(solvers::invert(engine, torch::zeros({20, 16}), torch::zeros({20, 2}), req),
               UserError);
  req.method = "lbfgs";
  req.workers = -1;
  EXPECT_THROW(solvers::invert(engine, torch::zeros({20, 16}), torch::zeros({20, 2}), req),
               UserError);
}

TEST(Solvers, UnknownMethodListsTheKnownOnes) {
  try {
    solvers::make_solver("newton", {});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("newton"), std::string::npos);
  }
}

TEST(Solvers, LossCurvesStopWithTheImage) {
  KnownOptimum k;
  solvers::Objective f(k.engine, {}, k.targets);
  solvers::SolveHooks hooks;
  hooks.curve_images = {1};
  auto sol = solvers::make_solver("gauss-newton", tight_settings("gauss-newton"))
                 ->solve(f, k.y_star + 0.1, hooks);
  const int64_t used = sol.iterations[1].item<int64_t>();
  ASSERT_EQ(sol.curves.size(0), 1);
  EXPECT_FALSE(std::isnan(sol.curves[0][used].item<float>()));
  if (used + 1 < sol.curves.size(1)) EXPECT_TRUE(std::isnan(sol.curves[0][used + 1].item<float>()));
  EXPECT_NEAR(sol.curves[0][0].item<double>(), sol.initial_loss[1].item<double>(), 1e-5);
}

// Gauss-Newton restarted at the minima of a careful run. Where a minimum is smooth (inside a
// linear region of the decoder) the decrease its model predicts is below the relative tolerance:
// it stops in its first iteration, without a trial. Where a minimum sits on a kink of the ReLU
// decoder the gradient does not vanish, and it stops because no step lowers the loss. It never
// moves.
TEST(GaussNewton, StopsWhereItsModelPredictsNoGain) {
  KnownOptimum k;
  torch::manual_seed(6);
  auto z = k.targets + 0.02 * torch::randn_like(k.targets);  // minima with a loss > 0
  solvers::Objective f(k.engine, {}, z);
  auto careful = solvers::settings_for("gauss-newton");
  careful.stop.gradient_tolerance = 0;
  careful.stop.relative_tolerance = 0;
  careful.stop.max_iterations = 500;
  auto minimum = solvers::make_solver("gauss-newton", careful)->solve(f, k.y_star);
  ASSERT_GT(minimum.final_loss.min().item<double>(), 1e-4);
  auto settings = solvers::settings_for("gauss-newton");
  settings.stop.gradient_tolerance = 0;  // only the relative tolerance (1e-7) and its prediction
  auto again = solvers::make_solver("gauss-newton", settings)->solve(f, minimum.latents);
  EXPECT_TRUE(torch::equal(again.latents, minimum.latents)) << again.latents - minimum.latents;
  auto predicted = (again.stop_reason ==
                    static_cast<int64_t>(solvers::StopReason::kRelativeChange));
  auto kink = again.stop_reason == static_cast<int64_t>(solvers::StopReason::kNoDescent);
  EXPECT_TRUE(predicted.logical_or(kink).all().item<bool>()) << again.stop_reason;
  EXPECT_GE(predicted.sum().item<int64_t>(), 2) << again.stop_reason;
  EXPECT_TRUE((again.iterations.masked_select(predicted) == 1).all().item<bool>())
      << again.iterations;
}

// A caller's guess of the start's Jacobian (the grid's secant) makes the first Gauss-Newton
// matrix; the gradient stays exact. The exact Jacobian as a guess takes the same first step as
// no guess; a wrong guess another step, and still the known optimum in the end.
TEST(GaussNewton, AJacobianGuessShapesTheFirstStepNotTheOptimum) {
  KnownOptimum k;
  torch::manual_seed(8);
  auto start = k.y_star + 0.05 * torch::randn_like(k.y_star);
  solvers::Objective f(k.engine, {}, k.targets);
  const auto decoded = f.decode(start);
  const auto exact = k.engine.jacobian(decoded.trace);
  const auto wrong = exact * 1.5 + 0.3 * torch::randn_like(exact);
  const auto guessed = torch::tensor({true, true, false, true});
  for (bool keep_stale : {false, true}) {
    auto one_step = tight_settings("gauss-newton");
    one_step.options.gauss_newton.keep_stale_jacobian = keep_stale;
    one_step.stop.max_iterations = 1;
    solvers::GaussNewton gn(one_step);
    auto plain = gn.solve_decoded(f, decoded);
    auto with_exact = gn.solve_guessed(f, decoded, exact, guessed);
    auto with_wrong = gn.solve_guessed(f, decoded, wrong, guessed);
    EXPECT_TRUE(torch::allclose(with_exact.latents, plain.latents, 1e-9, 1e-12))
        << with_exact.latents - plain.latents;
    auto moved = (with_wrong.latents - plain.latents).abs().amax(1) > 1e-6;
    EXPECT_TRUE(torch::equal(moved, guessed)) << with_wrong.latents - plain.latents;

    auto settings = tight_settings("gauss-newton");
    settings.options.gauss_newton.keep_stale_jacobian = keep_stale;
    auto sol = solvers::GaussNewton(settings).solve_guessed(f, decoded, wrong, guessed);
    EXPECT_LT((sol.latents - k.y_star).abs().max().item<double>(), 1e-5) << sol.latents;
    EXPECT_TRUE(sol.converged().all().item<bool>()) << sol.stop_reason;
  }
}
