#include "solvers/registry.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "solvers/adafactor.h"
#include "solvers/adam.h"
#include "solvers/fixed_point.h"
#include "solvers/gauss_newton.h"
#include "solvers/gd.h"
#include "solvers/grid.h"
#include "solvers/lbfgs.h"
#include "util/error.h"

namespace preimage::solvers {
namespace {

// The defaults of the methods that stop by their own rule: an iteration cap with tolerances
// such that every image stops by its own criterion.
SolverSettings stopping(int64_t max_iterations) {
  SolverSettings s;
  s.stop.max_iterations = max_iterations;
  s.stop.gradient_tolerance = 1e-4;  // |grad| of a loss of ~40 summed over 784 pixels
  s.stop.relative_tolerance = 1e-7;  // about float32's resolution of the loss
  return s;
}

template <typename Method>
std::function<std::unique_ptr<Solver>(const SolverSettings&)> factory() {
  return [](const SolverSettings& s) { return std::make_unique<Method>(s); };
}

std::vector<MethodSpec> make_registry() {
  std::vector<MethodSpec> rows;

  MethodSpec adafactor;
  adafactor.name = "adafactor";
  adafactor.summary = "Keras 3's Adafactor, the thesis's method: 150 steps of lr 1e-3, no early stop";
  adafactor.options = {OptionGroup::kStepSize};
  adafactor.make = factory<Adafactor>();
  adafactor.benchmark = {"adafactor"};
  rows.push_back(adafactor);

  MethodSpec adam;
  adam.name = "adam";
  adam.summary = "Adam with Keras's constants, per-image moments";
  adam.defaults = stopping(1000);
  adam.defaults.options.step_size.learning_rate = 1e-2;
  adam.options = {OptionGroup::kStepSize};
  adam.make = factory<Adam>();
  adam.refines = true;
  adam.benchmark = {"adam"};
  rows.push_back(adam);

  MethodSpec gd;
  gd.name = "gd";
  gd.summary = "plain gradient descent with a fixed step tau (the thesis's section 2.3.2)";
  gd.defaults = stopping(2000);
  gd.defaults.options.step_size.learning_rate = 1e-3;  // tau
  gd.options = {OptionGroup::kStepSize};
  gd.make = factory<GradientDescent>();
  gd.refines = true;
  gd.benchmark = {"gd"};
  rows.push_back(gd);

  MethodSpec lbfgs;
  lbfgs.name = "lbfgs";
  lbfgs.summary = "L-BFGS with an Armijo line search, per image (the thesis's wish)";
  lbfgs.defaults = stopping(200);
  lbfgs.options = {OptionGroup::kLbfgs};
  lbfgs.make = factory<Lbfgs>();
  lbfgs.refines = true;
  lbfgs.careful_reference = true;
  lbfgs.benchmark = {"lbfgs"};
  rows.push_back(lbfgs);

  MethodSpec gauss_newton;
  gauss_newton.name = "gauss-newton";
  gauss_newton.summary = "Levenberg-Marquardt on the residual, per-image damping";
  gauss_newton.defaults = stopping(100);
  gauss_newton.options = {OptionGroup::kGaussNewton};
  gauss_newton.make = factory<GaussNewton>();
  gauss_newton.refines = true;
  gauss_newton.takes_jacobian_guess = true;
  gauss_newton.careful_reference = true;
  gauss_newton.benchmark = {"gauss-newton"};
  rows.push_back(gauss_newton);

  MethodSpec fixed_point;
  fixed_point.name = "fixed-point";
  fixed_point.summary = "the thesis's fixed-point idea u <- E(z) - E(D(u)) + u (needs the encoder)";
  fixed_point.defaults = stopping(200);  // a contraction of 0.9 gains 1e-9 in 200 steps
  fixed_point.options = {OptionGroup::kFixedPoint};
  fixed_point.make = factory<FixedPoint>();
  fixed_point.needs_encoder = true;
  fixed_point.benchmark = {"fixed-point"};
  rows.push_back(fixed_point);

  MethodSpec grid;
  grid.name = "grid";
  grid.summary = "global search on a grid of the latent box, then a local refinement (L <= 3)";
  grid.defaults = stopping(100);
  // The refinement starts in the global basin, most often within 1e-3 of its minimum.
  // Polishing to float32's resolution there cost 60% more decoder passes on MNIST for a median
  // gain of 4e-6 relative (docs/PERFORMANCE.md).
  grid.defaults.stop.relative_tolerance = 1e-5;
  grid.defaults.options.gauss_newton.keep_stale_jacobian = true;
  grid.options = {OptionGroup::kGrid};
  grid.make = factory<GridSearch>();
  grid.max_latent_dim = GridSearch::kMaxLatentDim;
  grid.benchmark = {"grid:quadratic", "grid:gauss-newton"};
  rows.push_back(grid);
  return rows;
}

}  // namespace

const std::vector<MethodSpec>& method_registry() {
  static const std::vector<MethodSpec> rows = make_registry();
  return rows;
}

const MethodSpec& method_spec(const std::string& name) {
  for (const auto& row : method_registry())
    if (row.name == name) return row;
  throw UserError(fmt::format("unknown inversion method '{}'", name),
                  fmt::format("use one of: {}", fmt::join(method_names(), ", ")));
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const auto& row : method_registry()) names.push_back(row.name);
  return names;
}

std::vector<std::string> refinement_names() {
  std::vector<std::string> names = {"none", "quadratic"};
  for (const auto& row : method_registry())
    if (row.refines) names.push_back(row.name);
  return names;
}

std::vector<std::string> methods_using(OptionGroup group) {
  std::vector<std::string> names;
  for (const auto& row : method_registry())
    if (std::find(row.options.begin(), row.options.end(), group) != row.options.end())
      names.push_back(row.name);
  return names;
}

std::unique_ptr<Solver> make_solver(const std::string& name, const SolverSettings& settings) {
  return method_spec(name).make(settings);
}

// ---- settings -------------------------------------------------------------------------------

Refinement Refinement::parse(const std::string& name) {
  if (name == "none") return {RefinementKind::kNone, ""};
  if (name == "quadratic") return {RefinementKind::kQuadratic, ""};
  const auto names = refinement_names();
  require(std::find(names.begin(), names.end(), name) != names.end(),
          fmt::format("unknown refinement '{}' of the grid search", name),
          fmt::format("use one of: {}", fmt::join(names, ", ")));
  return {RefinementKind::kLocal, name};
}

std::string Refinement::name() const {
  switch (kind) {
    case RefinementKind::kNone: return "none";
    case RefinementKind::kQuadratic: return "quadratic";
    case RefinementKind::kLocal: return method;
  }
  return method;
}

SolverSettings settings_for(const std::string& method, const SettingsOverrides& given) {
  SolverSettings s = method_spec(method).defaults;
  auto& o = s.options;
  auto positive = [](const char* flag, double v) {
    require(std::isfinite(v) && v > 0, fmt::format("{} must be a positive number, got {}", flag, v));
  };
  auto non_negative = [](const char* flag, double v) {
    require(std::isfinite(v) && v >= 0,
            fmt::format("{} must be zero or a positive number, got {}", flag, v));
  };
  if (given.max_iterations) {
    non_negative("--steps", static_cast<double>(*given.max_iterations));
    s.stop.max_iterations = *given.max_iterations;
  }
  if (given.gradient_tolerance) {
    non_negative("--grad-tol", *given.gradient_tolerance);
    s.stop.gradient_tolerance = *given.gradient_tolerance;
  }
  if (given.relative_tolerance) {
    non_negative("--rel-tol", *given.relative_tolerance);
    s.stop.relative_tolerance = *given.relative_tolerance;
  }
  if (given.box_radius) {
    positive("--box", *given.box_radius);
    s.box_radius = *given.box_radius;
  }
  if (given.learning_rate) {
    positive("--learning-rate", *given.learning_rate);
    o.step_size.learning_rate = *given.learning_rate;
  }
  if (given.history) {
    positive("--history", static_cast<double>(*given.history));
    o.lbfgs.history = *given.history;
  }
  if (given.step_tolerance) {
    non_negative("--step-tol", *given.step_tolerance);
    o.fixed_point.step_tolerance = *given.step_tolerance;
  }
  if (given.grid_points) {
    non_negative("--grid-points", static_cast<double>(*given.grid_points));
    o.grid.points = *given.grid_points;
  }
  if (given.grid_radius) {
    positive("--grid-radius", *given.grid_radius);
    o.grid.radius = *given.grid_radius;
  }
  if (given.refine) o.grid.refine = Refinement::parse(*given.refine);
  return s;
}

nlohmann::json settings_json(const std::string& method, const SolverSettings& s) {
  nlohmann::json j = {{"max_iterations", s.stop.max_iterations},
                      {"gradient_tolerance", s.stop.gradient_tolerance},
                      {"relative_tolerance", s.stop.relative_tolerance},
                      {"box_radius", s.box_radius}};
  const auto& o = s.options;
  auto add = [&](OptionGroup group) {
    switch (group) {
      case OptionGroup::kStepSize: j["learning_rate"] = o.step_size.learning_rate; break;
      case OptionGroup::kLbfgs: j["history"] = o.lbfgs.history; break;
      case OptionGroup::kGaussNewton:
        j["keep_stale_jacobian"] = o.gauss_newton.keep_stale_jacobian;
        break;
      case OptionGroup::kFixedPoint: j["step_tolerance"] = o.fixed_point.step_tolerance; break;
      case OptionGroup::kGrid:
        j["grid_points"] = o.grid.points;
        j["grid_radius"] = o.grid.radius;
        j["refine"] = o.grid.refine.name();
        break;
    }
  };
  const auto& groups = method_spec(method).options;
  for (auto group : groups) add(group);
  // The grid's local refinement runs with the grid's settings and the options of its method.
  const bool grid = std::find(groups.begin(), groups.end(), OptionGroup::kGrid) != groups.end();
  if (grid && o.grid.refine.kind == RefinementKind::kLocal)
    for (auto group : method_spec(o.grid.refine.method).options) add(group);
  return j;
}

void require_method_fits(const std::string& method, const std::string& start, int64_t latent_dim,
                         bool has_encoder) {
  const auto& spec = method_spec(method);
  require(spec.max_latent_dim == 0 || latent_dim <= spec.max_latent_dim,
          fmt::format("{} needs a latent dimension of at most {}, this model has {}", method,
                      spec.max_latent_dim, latent_dim),
          "use a local method (gauss-newton, lbfgs) for larger latent spaces");
  require(!spec.needs_encoder || has_encoder,
          fmt::format("{} needs the model's encoder, and the model has no encoder", method),
          "choose another method (preimage invert --help lists them)");
  require(start != "encoder" || has_encoder,
          "--start encoder needs the model's encoder, and the model has no encoder",
          "give --start prior, grid or random:K (or the model's encoder)");
  const int64_t grid_limit = method_spec("grid").max_latent_dim;
  require(start != "grid" || latent_dim <= grid_limit,
          fmt::format("--start grid needs a latent dimension of at most {}, this model has {}",
                      grid_limit, latent_dim),
          "start from the prior, random:K or the encoder for larger latent spaces");
}

}  // namespace preimage::solvers
