// preimage bench-solvers: every inversion method on the same images, against the oracle.
#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/solver_benchmark.h"
#include "solvers/solver.h"

namespace preimage::cli {

void add_bench_solvers_command(CLI::App& app) {
  struct Config {
    pipeline::SolverBenchmarkConfig bench;
    std::string run;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "bench-solvers",
      "Compare every inversion method on a run's images (writes RUN/solver_benchmark.json)");
  cmd->add_option("run", cfg->run, "Run folder (after train and encode)")->required();
  cmd->add_option("--methods", cfg->bench.methods,
                  "Methods to compare; grid:R is grid refined by R (quadratic, gauss-newton, lbfgs)")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& spec) -> std::string {
            const auto names = solvers::solver_names();
            const auto method = spec.substr(0, spec.find(':'));
            if (std::find(names.begin(), names.end(), method) != names.end()) return "";
            return fmt::format("unknown method '{}': use one of {}", method,
                               fmt::join(names, ", "));
          },
          "METHOD[:REFINE]"))
      ->capture_default_str();
  cmd->add_flag("!--no-careful", cfg->bench.careful,
                "Skip the long careful runs of lbfgs and gauss-newton (the references of the stopping test)");
  cmd->add_option("--images", cfg->bench.images, "Range of the run's images: N, A:B or all")
      ->capture_default_str();
  add_chunk_option(*cmd, cfg->bench.chunk_size);
  add_workers_option(*cmd, cfg->bench.workers);
  cmd->callback([cfg] {
    auto run = run::RunFolder::open(cfg->run);
    pipeline::print_solver_benchmark(pipeline::benchmark_solvers(run, cfg->bench));
  });
}

}  // namespace preimage::cli
