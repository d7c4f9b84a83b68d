// preimage certify: a proof per image that a method's solution is the global optimum of its loss
// over the latent box, or the gap left (branch and bound with bound propagation through the
// decoder: certify/branch_and_bound.h).
#include <memory>

#include "cli/commands.h"
#include "cluster/world.h"
#include "pipeline/certify_step.h"
#include "pipeline/cluster_jobs.h"
#include "util/config_table.h"

namespace preimage::cli {
namespace {

void add_certify_options(CLI::App& cmd, pipeline::CertifyConfig& cfg) {
  auto& o = cfg.options;
  cmd.add_option("--certify-tol", o.tolerance,
                 "Certified when no point of the box is below the optimum by more than this, "
                 "relative (to max(|loss|, 1))")
      ->capture_default_str();
  cmd.add_option("--radius", o.radius, "The box [-r, r]^L the certificate covers")
      ->capture_default_str();
  cmd.add_option("--initial-cells", o.initial_cells, "Cells per axis of the first level")
      ->capture_default_str();
  cmd.add_option("--symbols", o.symbols,
                 "Error symbols per cell of the zonotope relaxation (0: intervals for the "
                 "unstable ReLUs)")
      ->capture_default_str();
  cmd.add_option("--local-neurons", o.local_neurons,
                 "A cell leaving at most this many ReLUs unstable bounds its sub-cells through "
                 "the decoder restricted to its activation pattern (0: always the whole network)")
      ->capture_default_str();
  cmd.add_option("--max-cells", o.max_cells,
                 "Cell bounds per image before it is given up (left uncertified, with its bound)")
      ->capture_default_str();
  cmd.add_option("--max-depth", o.max_depth, "Levels of splitting below the first, at most")
      ->capture_default_str();
  cmd.add_option("--parts", cfg.parts,
                 "Parts of the box certified apart, each for every image (a killed command "
                 "resumes from the last whole part). 0: automatic, 8 per worker; give it for the "
                 "same bytes on any machine")
      ->capture_default_str();
}

}  // namespace

void add_certify_command(CLI::App& app) {
  struct Config {
    std::string run, method = "adafactor";
    pipeline::CertifyConfig certify;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "certify", "Prove per image that the method's solution is the global optimum of its loss "
                 "over the latent box (or give the gap left); writes "
                 "RUN/losses/<method>_{lower_bound,optimum,gap,certified,...}.npy");
  cmd->add_option("run", cfg->run, "Run folder (after invert)")->required();
  cmd->add_option("--method", cfg->method, "Whose solutions start the search")
      ->capture_default_str();
  add_certify_options(*cmd, cfg->certify);
  cmd->callback([cfg] {
    cfg->certify.check();
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(nullptr);  // rank 0 reads and writes; this rank certifies
    auto run = run::RunFolder::open(cfg->run);
    util::print_config("certify", {{"run", cfg->run},
                                   {"method", cfg->method},
                                   {"certify", cfg->certify.to_json()}});
    pipeline::print_certificate(pipeline::certify_run(run, cfg->method, cfg->certify));
  });
}

}  // namespace preimage::cli
