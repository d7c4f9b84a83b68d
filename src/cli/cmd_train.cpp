// preimage train: step 1 of the thesis, the VAE.
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/train_step.h"

namespace preimage::cli {

void add_train_command(CLI::App& app) {
  struct Config {
    pipeline::TrainStep step;
    std::string out = "runs/default";
    std::string preset = "fast";
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand("train", "Train the VAE and save it as RUN/model.pt");
  cmd->add_option("--out", cfg->out, "Run folder (created if needed)")->capture_default_str();
  add_data_options(*cmd, cfg->step.data);
  add_vae_options(*cmd, cfg->step.vae);
  add_train_options(*cmd, cfg->step.train, cfg->preset);
  cmd->add_option("--train-images", cfg->step.train_images, "Range of training images")
      ->capture_default_str();
  cmd->add_option("--eval-images", cfg->step.eval_images,
                  "Range of test images for the test ELBO, or none")
      ->capture_default_str();
  cmd->add_option("--seed", cfg->step.train.seed, "Seed of all randomness")->capture_default_str();
  cmd->callback([cfg, cmd] {
    auto& t = cfg->step.train;
    const auto batch = t.batch_size;
    const auto lr = t.learning_rate;
    const auto epochs = t.epochs;
    t.apply_preset(cfg->preset);
    if (cmd->count("--batch-size")) t.batch_size = batch;
    if (cmd->count("--lr")) t.learning_rate = lr;
    if (cmd->count("--epochs")) t.epochs = epochs;
    auto run = run::RunFolder::create(cfg->out);
    print_config("train", {{"out", cfg->out}, {"train", t.to_json()},
                           {"vae", cfg->step.vae.to_json()}, {"data", cfg->step.data.source}});
    pipeline::train_model(run, cfg->step);
  });
}

}  // namespace preimage::cli
