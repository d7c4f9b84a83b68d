// preimage likelihood: the VAE's own measure of a run, in nats (exact log p(x) for L <= 3, the
// amortization and approximation gaps, the log joint at each latent space's point).
#include <memory>

#include "cli/analyze_options.h"
#include "cli/commands.h"
#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/likelihood_step.h"
#include "util/config_table.h"

namespace preimage::cli {

void add_likelihood_command(CLI::App& app) {
  struct Config {
    std::string run;
    pipeline::LikelihoodConfig likelihood;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "likelihood", "Exact log p(x) of the run's images and of test images (quadrature over the "
                    "latent plane), the encoder's and the best Gaussian's ELBO, and the log joint "
                    "at each latent space's point; writes RUN/likelihood.json and "
                    "RUN/likelihood/*.npy");
  cmd->add_option("run", cfg->run, "Run folder (encoded; its methods' latents are scored too)")
      ->required();
  add_likelihood_options(*cmd, cfg->likelihood);
  cmd->callback([cfg] {
    cfg->likelihood.check();
    // rank 0 reads and writes; this rank scores chunks
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(nullptr);

    auto run = run::RunFolder::open(cfg->run);
    util::print_config("likelihood", {{"run", cfg->run}, {"likelihood", cfg->likelihood.to_json()}});
    pipeline::likelihood_run(run, cfg->likelihood);
  });
}

}  // namespace preimage::cli
