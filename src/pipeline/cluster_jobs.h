#pragma once
// What the ranks of an MPI job share (cluster/farm.h): rank 0 names the model by its files and
// their identity in each job's header, every worker opens it on its own device and checks it is
// the same; a worker rank serves the jobs of the command it was started with until rank 0 says
// stop: the inversions of `invert` and `run` (invert_step.h), the certificates' blocks
// (certify_step.h), the encoder's batches (encode_step.h), the likelihood's chunks of images
// (likelihood_step.h) and the solver benchmark's rows (solver_benchmark.h).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decoders/model_source.h"

namespace preimage::pipeline {

struct InvertStep;

// The header's model: the source's files (absolute paths), how to read them, its device as the
// user gave it, and its identity without the device.
nlohmann::json model_job(const decoders::ModelSource& source,
                         const decoders::GenerativeModel& model);

// The model a header names, opened on this rank's device (plain "cuda": GPU r for local rank r).
// Throws UserError when this rank's files are not rank 0's (another SHA-256).
decoders::GenerativeModel open_job_model(const nlohmann::json& model_job);

// A worker rank (rank > 0): serves rank 0's jobs until it says stop. `invert` (may be null: the
// command inverts nothing) is this rank's own inversion settings, from the same command line,
// checked against rank 0's; `methods` the methods it may be asked for (empty: invert->method).
// The other jobs carry their settings.
void serve_jobs(const InvertStep* invert, const std::vector<std::string>& methods = {});

}  // namespace preimage::pipeline
