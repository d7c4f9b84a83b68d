#pragma once
// How a method runs: the stopping rule and latent box every method shares, each method's own
// options, and what the user set on the command line. Each method's defaults live in its
// registry row (registry.cpp); `settings_for` merges them with what the user gave.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace preimage::solvers {

struct StopRule {
  int64_t max_iterations = 150;   // iteration cap (thesis: 150 Adafactor steps)
  double gradient_tolerance = 0;  // stop an image when |grad| < this (0 = never)
  double relative_tolerance = 0;  // stop when |f_k - f_{k-1}| <= this * |f_k| (0 = never)
};

// ---- each method's own options --------------------------------------------------------------

// adafactor, adam, gd: the step size (Adafactor's relative step is capped by it).
struct StepSizeOptions {
  double learning_rate = 1e-3;  // the thesis: Keras's default 1e-3
};
struct LbfgsOptions {
  int64_t history = 5;  // curvature pairs kept per image
};
struct GaussNewtonOptions {
  // After an accepted step into another linear region of the decoder, keep the previous
  // Jacobian until a step is rejected (gauss_newton.cpp). The grid's refinement sets it (it
  // saves decoder passes there); from the encoder it cost iterations. No flag: the caller's.
  bool keep_stale_jacobian = false;
};
struct FixedPointOptions {
  double step_tolerance = 1e-5;  // stop an image when |u_{k+1} - u_k| < this
};
// What the grid search does from its best grid point.
enum class RefinementKind {
  kNone,       // return the grid point
  kQuadratic,  // a quadratic fitted to the grid's scores (one decoder pass)
  kLocal,      // a local method (gauss-newton, lbfgs, ...) from the quadratic's minimiser
};
struct Refinement {
  RefinementKind kind = RefinementKind::kLocal;
  std::string method = "gauss-newton";  // with kLocal: a method that refines (registry)
  // "none", "quadratic" or a method's name; throws UserError listing the choices.
  static Refinement parse(const std::string& name);
  std::string name() const;
  bool operator==(const Refinement& o) const { return kind == o.kind && method == o.method; }
};
struct GridOptions {
  int64_t points = 0;     // points per latent axis (0: automatic, 201 for L <= 2, 41 for L = 3)
  double radius = 4.0;    // the box [-r, r]^L searched (the prior's bulk: 4 sigma)
  Refinement refine;      // from the best grid point (gauss-newton: the most accurate)
};

// Every method's options; a method reads its own (its registry row names them).
struct MethodOptions {
  StepSizeOptions step_size;
  LbfgsOptions lbfgs;
  GaussNewtonOptions gauss_newton;
  FixedPointOptions fixed_point;
  GridOptions grid;
};

// What a solver is built with.
struct SolverSettings {
  StopRule stop;
  double box_radius = 10.0;  // |y|_inf beyond this flags the image as having left the box
  MethodOptions options;
};

// What the user set (flags given); an unset field takes the method's default.
struct SettingsOverrides {
  std::optional<int64_t> max_iterations;
  std::optional<double> gradient_tolerance;
  std::optional<double> relative_tolerance;
  std::optional<double> box_radius;
  std::optional<double> learning_rate;
  std::optional<int64_t> history;
  std::optional<double> step_tolerance;
  std::optional<int64_t> grid_points;
  std::optional<double> grid_radius;
  std::optional<std::string> refine;  // a Refinement's name
};

// The method's defaults (registry) with `given` applied on top; throws UserError for an unknown
// method or a value out of range (naming the flag).
SolverSettings settings_for(const std::string& method, const SettingsOverrides& given = {});

// The settings `method` uses, for manifests and the report (the options of other methods left
// out).
nlohmann::json settings_json(const std::string& method, const SolverSettings& settings);

}  // namespace preimage::solvers
