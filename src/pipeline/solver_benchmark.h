#pragma once
// The solver comparison of issue 3: every method on the same images of a trained model, with
// the best loss any method found as the oracle.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
#include "decoders/model_source.h"
#include "run/run_folder.h"
#include "solvers/invert.h"

namespace preimage::pipeline {

// The registry's benchmark entries, in order ("grid:R" is grid refined by R).
std::vector<std::string> default_benchmark_methods();

struct SolverBenchmarkConfig {
  // Methods with their defaults; "grid:R" is grid refined by R (quadratic, gauss-newton, ...).
  std::vector<std::string> methods = default_benchmark_methods();
  // Also run the methods of `methods` the registry marks careful_reference (lbfgs, gauss-newton)
  // again from the same start, long and carefully (1000 iterations, tolerances / 100): the
  // references of "each stops within 0.1% of a long careful refinement".
  bool careful = true;
  std::string images = "all";  // range of the run's images ("all": every image of the run)
  int64_t chunk_size = solvers::InvertRequest{}.chunk_size;  // images solved together
  int64_t workers = 0;  // chunks solved at once (0: automatic, see InvertRequest)
  // The run's model (empty: the run's own, on `model.device`); given, it must be the run's.
  decoders::ModelSource model;
  // Another form of the same model (a TorchScript export of the run's decoder, say): each
  // method runs again through it, and each row gains the ratio of the wall times and the share
  // of images with the same final loss (to 1e-4 relative). Empty: none.
  decoders::ModelSource compare;
};

// Runs each method (its defaults) from the encoder's start (the prior's mean when the model has
// no encoder); returns one row per method plus the oracle comparison, and writes
// RUN/solver_benchmark.json. On rank 0 of an MPI job each row's chunks are shared by the ranks:
// the same losses and latents as one process with the same --chunk (the times are the job's).
nlohmann::json benchmark_solvers(run::RunFolder& run, const SolverBenchmarkConfig& config);

// A worker rank's side of one row of an MPI job's benchmark (cluster_jobs.h): the row's solver,
// its settings rebuilt here and checked against rank 0's.
cluster::ChunkSolver open_benchmark_job(const nlohmann::json& job);

// Prints the table as Markdown.
void print_solver_benchmark(const nlohmann::json& result);

}  // namespace preimage::pipeline
