// preimage run: the whole thesis pipeline on one command (pipeline/run_pipeline.h).
#include <memory>

#include "cli/analyze_options.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cluster/world.h"
#include "pipeline/run_pipeline.h"
#include "solvers/registry.h"

namespace preimage::cli {

void add_run_command(CLI::App& app) {
  struct Config {
    pipeline::RunJob job;
    std::string out = "runs/default";
    std::string preset = "fast";
    train::TrainOverrides train;
    uint64_t seed = 0;
    DataFlags data;
    ModelFlags model;
    bool no_analyze = false, no_report = false;
  };
  auto cfg = std::make_shared<Config>();
  auto& job = cfg->job;
  auto* cmd = app.add_subcommand(
      "run", "The whole pipeline: train (or reuse) the VAE, encode, invert, summarize, analyze, "
             "report");
  cmd->add_option("--out", cfg->out, "Run folder (created if needed)")->capture_default_str();
  cmd->add_option("--images", job.images,
                  "Images to encode and invert: N (the first N), A:B, or all")
      ->capture_default_str();
  cmd->add_option("--model", job.model,
                  "Use this preimage VAE checkpoint instead of training one (your own models: "
                  "--decoder, --weights)");
  cmd->add_flag("--retrain", job.retrain, "Train even if the run folder has a matching model");
  cmd->add_option("--seed", cfg->seed, "Seed of all randomness")->capture_default_str();
  add_data_options(*cmd, job.train.data, cfg->data);
  add_model_options(*cmd, job.source, cfg->model);
  add_vae_options(*cmd, job.train.vae);
  add_train_options(*cmd, cfg->preset, cfg->train);
  cmd->add_option("--train-images", job.train.train_images, "Range of training images")
      ->capture_default_str();
  cmd->add_option("--eval-images", job.train.eval_images,
                  "Range of test images for the per-epoch test ELBO, or none")
      ->capture_default_str();
  add_invert_options(*cmd, job.invert, /*with_seed=*/false);  // --seed is the run's
  cmd->add_option("--methods", job.methods,
                  "Several inversion methods, one after another, e.g. adafactor,lbfgs,grid "
                  "(default: --method)")
      ->delimiter(',')
      ->check(CLI::IsMember(solvers::method_names()));
  cmd->add_flag("--no-report", cfg->no_report,
                "Skip the figures and the report (preimage report RUN writes them later)");
  cmd->add_flag("--no-analyze", cfg->no_analyze,
                "Skip the analysis (preimage analyze RUN writes analysis.json later)");
  add_analyze_options(*cmd, job.analysis);
  cmd->callback([cfg, cmd] {
    auto job = cfg->job;
    job.out = cfg->out;
    finish_data_options(job.train.data, cfg->data);
    finish_model_options(job.source, cfg->model, cfg->data);
    if (!job.source.decoder.empty() && cmd->count("--latent-dim"))
      job.source.latent_dim = job.train.vae.latent_dim;  // the module's, where it cannot say
    job.train.train = train::train_config(cfg->preset, cfg->train, cfg->seed);
    job.invert.seed = cfg->seed;
    job.architecture_given = architecture_flags_given(*cmd) > 0;
    job.analyze = !cfg->no_analyze;
    job.report = !cfg->no_report;
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_run(job);  // rank 0 runs the steps; this rank solves chunks
    // The analysis's likelihood settings, refused before training rather than after.
    if (job.analyze && job.analysis.likelihood) job.analysis.likelihood_config.check();
    pipeline::run_pipeline(job);
  });
}

}  // namespace preimage::cli
