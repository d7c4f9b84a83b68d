#pragma once
// The analysis flags, shared by `analyze` and `run` (which analyzes at its end).
#include <CLI/CLI.hpp>

#include "pipeline/analyze_step.h"

namespace preimage::cli {

// --classifier, --no-bonus, --bonus-epochs, ... bound to `cfg`.
void add_analyze_options(CLI::App& cmd, pipeline::AnalyzeConfig& cfg);

// The likelihood's flags (--points, --radius, --test-images, --gap-images, ...), for
// `likelihood`; with `prefix` "likelihood-" for `analyze` and `run`.
void add_likelihood_options(CLI::App& cmd, pipeline::LikelihoodConfig& cfg,
                            const std::string& prefix = "");

}  // namespace preimage::cli
