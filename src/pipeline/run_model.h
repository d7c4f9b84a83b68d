#pragma once
// The generative model of a run folder, opened through the one factory (decoders/model_source.h):
// preimage's own VAE checkpoint or an imported model (TorchScript, weights), as the run records.
#include <functional>
#include <string>

#include "decoders/model_source.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

// Where `run`'s model comes from. Throws UserError naming the run when it records none, or
// when an imported model's file is gone or changed.
decoders::ModelSource run_model_source(const run::RunFolder& run, const std::string& device = "cpu");

// The model `run` records, on `device`.
decoders::GenerativeModel open_run_model(const run::RunFolder& run,
                                         const std::string& device = "cpu");

// A command given a model (`source` not empty) on `run`: records it when the run has no model
// yet (after `check`, when given, accepted it: nothing is written for a model that does not
// fit); when the run has one, it must be the same (the same files by SHA-256), else UserError.
// An empty `source` is the run's own. Returns the model opened on `source.device`.
decoders::GenerativeModel adopt_model(
    run::RunFolder& run, const decoders::ModelSource& source,
    const std::function<void(const decoders::GenerativeModel&)>& check = {});

// What results computed with `model` depend on, for a resume's identity: its record, with
// preimage's own checkpoint named by its bytes (SHA-256) rather than its path.
nlohmann::json model_identity(const decoders::GenerativeModel& model);

// Throws UserError naming both when `images` (N, P) are not of the size `model` decodes.
void require_model_fits(const decoders::GenerativeModel& model, const data::Dataset& images,
                        const std::string& what);

}  // namespace preimage::pipeline
