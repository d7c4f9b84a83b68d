#pragma once
// Step 3 of the thesis: invert the decoder image by image (batched), from a start point.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/farm.h"
#include "decoders/model_source.h"
#include "run/run_folder.h"
#include "solvers/invert.h"

namespace preimage::pipeline {

struct InvertStep {
  std::string method = "adafactor";     // a registry method (the thesis's by default)
  solvers::SettingsOverrides settings;  // what the user set; the rest is the method's default
  solvers::LossSpec loss;               // squared error (the thesis) or bernoulli, prior weight
  int64_t chunk_size = 0;               // images solved together (0: automatic, InvertRequest)
  int64_t workers = 0;                  // chunks solved at once (0: automatic)
  // "encoder" (MT), "prior" (the origin), "grid" (the best grid point), "random:K" (the best of
  // K draws from the prior, per image) or a stored latent space
  std::string start = "encoder";
  uint64_t seed = 0;                     // of random:K
  std::vector<int64_t> curve_images = {0};  // run positions whose loss curves are kept
  bool show_progress = true;
  // A model given with the command (--decoder, --weights): the run's must be it, or the run
  // records it; empty: the run's. Its `device` is where the inversion runs.
  decoders::ModelSource model;

  // The solver's request: the method's settings with the user's on top (throws UserError for an
  // unknown method or a setting out of range).
  solvers::InvertRequest request() const;
};

// Inverts the run's images, writes the method's files and results.csv; returns the solution.
// On rank 0 of an MPI job (cluster/world.h) the chunks are shared by the ranks, which run
// serve_inversion; rank 0 alone writes, the same bytes as one process with the same --chunk.
solvers::Solution invert_run(run::RunFolder& run, const InvertStep& step);

// A worker rank's side of a distributed inversion (cluster_jobs.h): the solver of rank 0's job
// `job` with `step`'s settings for the method rank 0 names, one of `methods` (empty:
// step.method); throws UserError when this rank's settings differ from rank 0's.
cluster::ChunkSolver open_inversion_job(const nlohmann::json& job, const InvertStep& step,
                                        const std::vector<std::string>& methods);

// The start points of `step.start` for the run's images `targets` (N, P) on `model`: (N, L), on
// the model's device. Throws UserError for an unknown start, "encoder" without an encoder, or a
// stored space of another shape.
torch::Tensor start_points(const run::RunFolder& run, const InvertStep& step,
                           const decoders::GenerativeModel& model, const torch::Tensor& targets);

// The best of `draws` points drawn from the prior N(0, I), per image, by `objective`'s value:
// (N, L). Deterministic for a seed.
torch::Tensor random_starts(const solvers::Objective& objective, int64_t draws, uint64_t seed);

}  // namespace preimage::pipeline
