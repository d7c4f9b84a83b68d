#pragma once
// Each subcommand lives in its own file and registers itself on the application.
#include <CLI/CLI.hpp>

namespace preimage::cli {

void add_train_command(CLI::App& app);   // cmd_train.cpp
void add_encode_command(CLI::App& app);  // cmd_encode.cpp
void add_invert_command(CLI::App& app);  // cmd_invert.cpp
void add_run_command(CLI::App& app);     // cmd_run.cpp
void add_analyze_command(CLI::App& app); // cmd_analyze.cpp (also train-classifier)
void add_report_command(CLI::App& app);  // cmd_report.cpp
void add_bench_command(CLI::App& app);   // cmd_bench.cpp
void add_merge_command(CLI::App& app);   // cmd_merge.cpp
void add_complete_command(CLI::App& app);       // cmd_complete.cpp
void add_bench_solvers_command(CLI::App& app);  // cmd_bench_solvers.cpp
void add_likelihood_command(CLI::App& app);     // cmd_likelihood.cpp
void add_certify_command(CLI::App& app);        // cmd_certify.cpp

}  // namespace preimage::cli
