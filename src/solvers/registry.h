#pragma once
// The inversion methods, one row each: name, summary, defaults, the options it reads, its
// factory and what it needs. The command line's choices and help, the benchmark's list, the
// report's settings and the tests' list of methods are derived from this table, so adding a
// method is its own file plus one row (docs/EXTENDING.md).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "solvers/settings.h"
#include "solvers/solver.h"

namespace preimage::solvers {

// The option groups of MethodOptions.
enum class OptionGroup { kStepSize, kLbfgs, kGaussNewton, kFixedPoint, kGrid };

struct MethodSpec {
  std::string name;     // as on the command line
  std::string summary;  // one line: what it is (help text, report)
  SolverSettings defaults;          // its stopping rule and options
  std::vector<OptionGroup> options; // the option groups it reads
  std::function<std::unique_ptr<Solver>(const SolverSettings&)> make;
  bool needs_encoder = false;      // iterates with the model's encoder (fixed-point)
  int64_t max_latent_dim = 0;      // the largest latent dimension it handles (0: any)
  bool refines = false;            // may refine the grid search's best point
  bool takes_jacobian_guess = false;  // solve_guessed uses a first Jacobian (the grid's secant)
  bool careful_reference = false;  // bench-solvers reruns it long and carefully
  // Its entries in bench-solvers' default list ("grid:quadratic" is grid refined by quadratic).
  std::vector<std::string> benchmark;
};

// Every method, in the order of the help text and the benchmark.
const std::vector<MethodSpec>& method_registry();
// The row of `name`; throws UserError listing the methods for an unknown name.
const MethodSpec& method_spec(const std::string& name);
std::vector<std::string> method_names();
// The grid's refinements: none, quadratic, and every method that refines.
std::vector<std::string> refinement_names();
// The methods whose rows read `group` (for the help text of its flags).
std::vector<std::string> methods_using(OptionGroup group);

std::unique_ptr<Solver> make_solver(const std::string& name, const SolverSettings& settings);

// Throws UserError unless `method`, started from `start` (encoder, prior, grid, random:K, or a
// stored latent space), can run on a model of latent dimension `latent_dim` with or without an
// encoder: checked before any long work (training, encoding).
void require_method_fits(const std::string& method, const std::string& start, int64_t latent_dim,
                         bool has_encoder);

}  // namespace preimage::solvers
