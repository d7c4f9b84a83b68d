#pragma once
// The generative model of a run folder, opened through the one factory (decoders/model_source.h)
// and checked against the run's images.
#include "decoders/model_source.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

// The model `run` records. Throws UserError naming the run when it records none or the
// checkpoint cannot be read.
decoders::GenerativeModel open_run_model(const run::RunFolder& run);

// Throws UserError naming both when `images` (N, P) are not of the size `model` decodes.
void require_model_fits(const decoders::GenerativeModel& model, const data::Dataset& images,
                        const std::string& what);

}  // namespace preimage::pipeline
