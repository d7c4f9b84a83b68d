#pragma once
// The analysis flags, shared by `analyze` and `run` (which analyzes at its end).
#include <CLI/CLI.hpp>

#include "analysis/analyze.h"
#include "run/run_folder.h"

namespace preimage::cli {

// --classifier, --no-bonus, --bonus-epochs, ... bound to `cfg`.
void add_analyze_options(CLI::App& cmd, analysis::AnalyzeConfig& cfg);

// Analyzes `run` (writes analysis.json) and prints the thesis's tables.
void run_analysis(run::RunFolder& run, analysis::AnalyzeConfig cfg);

}  // namespace preimage::cli
