// preimage analyze / train-classifier: the thesis's chapter 3 on a run folder, and its classifier.
#include <memory>

#include "analysis/classifier_source.h"
#include "cli/analyze_options.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "util/config_table.h"

namespace preimage::cli {

void add_analyze_options(CLI::App& cmd, pipeline::AnalyzeConfig& cfg) {
  cmd.add_option("--classifier", cfg.classifier,
                 "Classifier checkpoint (default: the one for the run's data set in the user's "
                 "cache, $XDG_CACHE_HOME/preimage or ~/.cache/preimage; trained there once)");
  cmd.add_flag("!--no-train-classifier", cfg.train_classifier,
               "Fail instead of training the classifier when its checkpoint is missing");
  cmd.add_option("--classifier-architecture", cfg.classifier_job.architecture,
                 "CNN of a classifier trained on the fly: lean, or thesis (the TensorFlow "
                 "tutorial's widths)")
      ->check(CLI::IsMember({"lean", "thesis"}))
      ->capture_default_str();
  cmd.add_option("--classifier-epochs", cfg.classifier_job.train.epochs,
                 "Epochs of a classifier trained on the fly")->capture_default_str();
  cmd.add_option("--classifier-train-images", cfg.classifier_job.train_images,
                 "Range of training images of a classifier trained on the fly")
      ->capture_default_str();
  cmd.add_flag("!--no-bonus", cfg.bonus.enabled, "Skip the bonus models MB and MA");
  cmd.add_flag("!--no-amortized", cfg.bonus.amortized, "Skip the amortized inverse MA");
  cmd.add_option("--bonus-method", cfg.bonus_method,
                 "Method whose latents MB and MA learn (default: the run's first)");
  cmd.add_option("--bonus-epochs", cfg.bonus.latent.epochs, "Epochs of MB (the thesis: 100)")
      ->capture_default_str();
  cmd.add_option("--bonus-batch-size", cfg.bonus.latent.batch_size, "Batch of MB (the thesis: 32)")
      ->capture_default_str();
  cmd.add_option("--amortized-epochs", cfg.bonus.image.epochs, "Epochs of MA")
      ->capture_default_str();
  cmd.add_option("--validation-split", cfg.bonus.latent.validation_split,
                 "Share of the run's images held out from MB and MA (the last ones, as Keras)")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  cmd.add_option("--histogram-bins", cfg.histogram_bins, "Bins of the delta and loss histograms")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--lowest", cfg.lowest, "Digit breakdown of the N lowest final losses")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--top", cfg.top, "Best and worst images listed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--hz-max-points", cfg.henze_zirkler_max_points,
                 "Henze-Zirkler (O(n^2)) uses at most this many points")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--analysis-seed", cfg.bonus.seed, "Seed of the bonus models and classifier")
      ->capture_default_str();
  cmd.add_flag("!--no-likelihood", cfg.likelihood,
               "Skip the likelihood section (exact log p(x), gaps, log joints)");
  add_likelihood_options(cmd, cfg.likelihood_config, "likelihood-");
}

void add_likelihood_options(CLI::App& cmd, pipeline::LikelihoodConfig& cfg,
                            const std::string& prefix) {
  const auto flag = [&](const char* name) { return "--" + prefix + name; };
  cmd.add_option(flag("points"), cfg.quadrature.points,
                 "Quadrature grid points per latent axis (odd)")
      ->capture_default_str();
  cmd.add_option(flag("radius"), cfg.quadrature.radius, "Quadrature box [-R, R]^L")
      ->capture_default_str();
  cmd.add_option(flag("test-images"), cfg.test_images,
                 "Range of test images scored beside the run's own, none, or auto (as many as "
                 "the run's, at most 1000: 1000:2000 for 1000 images or more)")
      ->capture_default_str();
  cmd.add_option(flag("gap-images"), cfg.gap_images,
                 "First images of each set whose best Gaussian posterior is found (the gaps)")
      ->capture_default_str();
  cmd.add_option(flag("elbo-nodes"), cfg.elbo_nodes,
                 "Gauss-Hermite nodes per axis of the reported ELBOs")
      ->capture_default_str();
  cmd.add_option(flag("posterior-steps"), cfg.posterior.steps,
                 "Adam steps of the best Gaussian posterior")
      ->capture_default_str();
  cmd.add_flag("!--no-" + prefix + "map", cfg.map, "Skip the MAP point");
  cmd.add_option(flag("chunk"), cfg.chunk,
                 "Images scored together, each chunk with one BLAS thread, the chunks on the "
                 "BLAS's threads or MPI ranks (the same bytes anywhere); 0: each set at once "
                 "with every BLAS thread (one process) or split evenly over the MPI ranks")
      ->capture_default_str();
  cmd.add_option(flag("iwae-samples"), cfg.iwae_samples,
                 "L > 3: samples per image of the importance-weighted bound")
      ->capture_default_str();
}

void add_analyze_command(CLI::App& app) {
  struct Config {
    std::string run;
    pipeline::AnalyzeConfig analyze;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "analyze", "The thesis's analysis of a run folder: statistics, success rates, normality, "
                 "bonus models, vector analysis; writes RUN/analysis.json and prints the tables");
  cmd->add_option("run", cfg->run, "Run folder")->required();
  add_analyze_options(*cmd, cfg->analyze);
  cmd->callback([cfg] {
    // rank 0 reads and writes; this rank scores the likelihood's chunks
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(nullptr);
    if (cfg->analyze.likelihood) cfg->analyze.likelihood_config.check();
    auto run = run::RunFolder::open(cfg->run);
    util::print_config("analyze", {{"run", cfg->run}, {"analyze", cfg->analyze.to_json()}});
    pipeline::analyze_and_print(run, cfg->analyze);
  });

  auto job = std::make_shared<analysis::ClassifierJob>();
  auto* train = app.add_subcommand(
      "train-classifier", "Train the CNN classifier behind the success rates on binarized "
                          "images (Adam, cross-entropy) and save it; prints its test accuracy");
  train->add_option("--out", job->out,
                    "Checkpoint to write (default: the user's cache, where analyze finds it)");
  train->add_option("--architecture", job->architecture,
                    "lean, or thesis (the TensorFlow tutorial's widths, 4x the multiply-adds)")
      ->check(CLI::IsMember({"lean", "thesis"}))
      ->capture_default_str();
  train->add_option("--data", job->data.source, "Data set: mnist or fashion-mnist")
      ->capture_default_str();
  train->add_option("--data-dir", job->data.data_dir,
                    "Folder holding mnist/ and fashion-mnist/ (default: the one scripts/setup.sh "
                    "fills)");
  train->add_option("--train-images", job->train_images, "Range of training images")
      ->capture_default_str();
  train->add_option("--test-images", job->test_images, "Range of test images for the accuracy")
      ->capture_default_str();
  train->add_option("--epochs", job->train.epochs, "Passes over the training images")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  train->add_option("--batch-size", job->train.batch_size, "Images per Adam step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  train->add_option("--lr", job->train.learning_rate, "Adam learning rate")->capture_default_str();
  train->add_option("--lr-decay", job->train.lr_decay,
                    "Factor of the learning rate after each epoch (1: fixed)")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  train->add_option("--seed", job->train.seed, "Seed of initialisation and shuffling")
      ->capture_default_str();
  train->callback([job] {
    util::print_config("train-classifier", job->to_json());
    const auto meta = analysis::train_and_save_classifier(*job);
    std::printf("\n| Classifier | Value |\n|---|---|\n| checkpoint | %s |\n| test accuracy | "
                "%.4f on %lld images |\n| seconds | %.1f |\n",
                meta["path"].get<std::string>().c_str(), meta["test_accuracy"].get<double>(),
                static_cast<long long>(meta["test_images"].get<int64_t>()),
                meta["seconds"].get<double>());
  });
}

}  // namespace preimage::cli
