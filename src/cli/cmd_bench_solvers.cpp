// preimage bench-solvers: every inversion method on the same images, against the oracle.
#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/solver_benchmark.h"
#include "solvers/registry.h"

namespace preimage::cli {

void add_bench_solvers_command(CLI::App& app) {
  struct Config {
    pipeline::SolverBenchmarkConfig bench;
    std::string run;
    DataFlags data;
    ModelFlags model;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "bench-solvers",
      "Compare every inversion method on a run's images (writes RUN/solver_benchmark.json)");
  cmd->add_option("run", cfg->run, "Run folder (after train and encode)")->required();
  cmd->add_option("--methods", cfg->bench.methods,
                  "Methods to compare; grid:R is grid refined by R (" +
                      fmt::format("{}", fmt::join(solvers::refinement_names(), ", ")) + ")")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& spec) -> std::string {
            const auto colon = spec.find(':');
            const auto names = solvers::method_names();
            const auto method = spec.substr(0, colon);
            if (std::find(names.begin(), names.end(), method) == names.end())
              return fmt::format("unknown method '{}': use one of {}", method,
                                 fmt::join(names, ", "));
            if (colon == std::string::npos) return "";
            const auto refinements = solvers::refinement_names();
            const auto refine = spec.substr(colon + 1);
            if (method != "grid") return fmt::format("only grid takes a refinement (:{})", refine);
            if (std::find(refinements.begin(), refinements.end(), refine) == refinements.end())
              return fmt::format("unknown refinement '{}': use one of {}", refine,
                                 fmt::join(refinements, ", "));
            return "";
          },
          "METHOD[:REFINE]"))
      ->capture_default_str();
  cmd->add_flag("!--no-careful", cfg->bench.careful,
                "Skip the long careful runs of the stopping methods (the references of the "
                "stopping test)");
  cmd->add_option("--images", cfg->bench.images, "Range of the run's images: N, A:B or all")
      ->capture_default_str();
  add_chunk_option(*cmd, cfg->bench.chunk_size);
  add_workers_option(*cmd, cfg->bench.workers);
  add_model_options(*cmd, cfg->bench.model, cfg->model);
  cmd->add_option("--compare-decoder", cfg->bench.compare.decoder,
                  "The run's model in another form, a TorchScript file (e.g. its decoder exported "
                  "from PyTorch): each method runs through it too; the table gives the ratio of "
                  "wall times and the share of images with the same final loss");
  cmd->callback([cfg] {
    // rank 0 reads and writes; this rank solves chunks
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(nullptr);
    finish_model_options(cfg->bench.model, cfg->model, cfg->data);
    cfg->bench.compare.device = cfg->bench.model.device;
    auto run = run::RunFolder::open(cfg->run);
    pipeline::print_solver_benchmark(pipeline::benchmark_solvers(run, cfg->bench));
  });
}

}  // namespace preimage::cli
