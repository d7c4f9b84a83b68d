#include "solvers/solver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "solvers/adafactor.h"
#include "solvers/adam.h"
#include "solvers/fixed_point.h"
#include "solvers/gd.h"
#include "solvers/gauss_newton.h"
#include "solvers/grid.h"
#include "solvers/lbfgs.h"
#include "util/error.h"

namespace preimage::solvers {

std::string stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kMaxIterations: return "max-iterations";
    case StopReason::kGradientNorm: return "gradient-norm";
    case StopReason::kRelativeChange: return "relative-change";
    case StopReason::kNoDescent: return "no-descent";
    case StopReason::kDiverged: return "diverged";
    case StopReason::kGlobalSearch: return "global-search";
    case StopReason::kStepNorm: return "step-norm";
  }
  return "unknown";
}

bool is_converged(StopReason reason) {
  return reason != StopReason::kMaxIterations && reason != StopReason::kDiverged;
}

torch::Tensor Solution::converged() const {
  return stop_reason.ne(static_cast<int64_t>(StopReason::kMaxIterations))
      .logical_and(stop_reason.ne(static_cast<int64_t>(StopReason::kDiverged)));
}

SolverSettings SolverSettings::defaults_for(const std::string& method) {
  SolverSettings s;
  if (method == "adafactor") return s;  // the thesis: 150 steps, no early stop
  s.gradient_tolerance = 1e-4;   // |grad| of a loss of ~40 summed over 784 pixels
  s.relative_tolerance = 1e-7;   // about float32's resolution of the loss
  if (method == "gauss-newton" || method == "grid") {
    s.max_iterations = 100;
    // The grid's refinement starts in the global basin, most often within 1e-3 of its
    // minimum. Polishing to float32's resolution there (at the ReLU decoder's kinks, many
    // rejected steps for gains near 1e-6) cost 60% more decoder passes on MNIST for a median
    // gain of 4e-6 relative (99% of images within 1.2e-4) and the same share within 0.1% of
    // the best loss found.
    if (method == "grid") {
      s.relative_tolerance = 1e-5;
      s.keep_stale_jacobian = true;
    }
  } else if (method == "lbfgs") {
    s.max_iterations = 200;
  } else if (method == "gd") {
    s.max_iterations = 2000;
    s.learning_rate = 1e-3;  // tau, the fixed step of section 2.3.2
  } else if (method == "adam") {
    s.max_iterations = 1000;
    s.learning_rate = 1e-2;
  } else if (method == "fixed-point") {
    s.max_iterations = 200;  // a contraction of 0.9 gains 1e-9 in 200 steps
  }
  return s;
}

nlohmann::json SolverSettings::to_json() const {
  return {{"max_iterations", max_iterations},
          {"learning_rate", learning_rate},
          {"gradient_tolerance", gradient_tolerance},
          {"relative_tolerance", relative_tolerance},
          {"step_tolerance", step_tolerance},
          {"box_radius", box_radius},
          {"history", history},
          {"grid_points", grid_points},
          {"grid_radius", grid_radius},
          {"refine", refine},
          {"keep_stale_jacobian", keep_stale_jacobian}};
}

Solution Solution::concat(const std::vector<Solution>& parts) {
  require(!parts.empty(), "no solution to concatenate");
  auto cat = [&](auto member) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) ts.push_back(p.*member);
    return torch::cat(ts, 0);
  };
  Solution s;
  s.latents = cat(&Solution::latents);
  s.initial_loss = cat(&Solution::initial_loss);
  s.final_loss = cat(&Solution::final_loss);
  s.iterations = cat(&Solution::iterations);
  s.stop_reason = cat(&Solution::stop_reason);
  s.left_box = cat(&Solution::left_box);
  std::vector<torch::Tensor> curves;
  for (const auto& p : parts)
    if (p.curves.defined() && p.curves.size(0) > 0) curves.push_back(p.curves);
  if (!curves.empty()) s.curves = torch::cat(curves, 0);
  for (const auto& [key, first] : parts.front().diagnostics) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) {
      auto it = p.diagnostics.find(key);
      require(it != p.diagnostics.end(), fmt::format("a chunk lacks the diagnostic '{}'", key));
      ts.push_back(it->second);
    }
    s.diagnostics[key] = torch::cat(ts, 0);
  }
  return s;
}

std::vector<std::string> solver_names() {
  return {"adafactor", "adam", "gd", "lbfgs", "gauss-newton", "grid", "fixed-point"};
}

std::unique_ptr<Solver> make_solver(const std::string& name, const SolverSettings& settings) {
  if (name == "adafactor") return std::make_unique<Adafactor>(settings);
  if (name == "adam") return std::make_unique<Adam>(settings);
  if (name == "gd") return std::make_unique<GradientDescent>(settings);
  if (name == "lbfgs") return std::make_unique<Lbfgs>(settings);
  if (name == "gauss-newton") return std::make_unique<GaussNewton>(settings);
  if (name == "grid") return std::make_unique<GridSearch>(settings);
  if (name == "fixed-point") return std::make_unique<FixedPoint>(settings);
  throw UserError(fmt::format("unknown inversion method '{}'", name),
                  fmt::format("use one of: {}", fmt::join(solver_names(), ", ")));
}

namespace detail {

void report_iteration(const SolverSettings& settings, int64_t running) {
  if (settings.on_iteration) settings.on_iteration(running);
}

torch::Tensor outside_box(const torch::Tensor& y, double radius) {
  return std::get<0>(y.abs().max(1)) > radius;
}

torch::Tensor make_curves(const std::vector<int64_t>& images, int64_t iterations) {
  return torch::full({static_cast<int64_t>(images.size()), iterations + 1},
                     std::numeric_limits<float>::quiet_NaN(), torch::kFloat32);
}

void record_curve(torch::Tensor& curves, const std::vector<int64_t>& images,
                  const torch::Tensor& loss, int64_t it) {
  if (images.empty()) return;
  auto acc = curves.accessor<float, 2>();
  auto l = loss.to(torch::kFloat32).contiguous();
  const float* p = l.data_ptr<float>();
  for (size_t k = 0; k < images.size(); ++k) acc[static_cast<int64_t>(k)][it] = p[images[k]];
}

}  // namespace detail
}  // namespace preimage::solvers
