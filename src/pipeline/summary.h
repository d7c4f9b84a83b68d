#pragma once
// The thesis's summary table (sections 3.3, annex E): mean initial and final loss, mean delta,
// and the mean vectors and covariance matrices of MT and of each method's latent space.
#include <string>

#include <nlohmann/json.hpp>

#include "run/run_folder.h"

namespace preimage::pipeline {

// Computes the summary of `method` (all recorded methods if empty) as JSON.
nlohmann::json summarize(const run::RunFolder& run, const std::string& method = "");

// Prints it as Markdown tables (| quantity | value |) to stdout.
void print_summary(const nlohmann::json& summary);

}  // namespace preimage::pipeline
