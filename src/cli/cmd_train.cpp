// preimage train: step 1 of the thesis, the VAE.
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/train_step.h"
#include "util/config_table.h"

namespace preimage::cli {

void add_train_command(CLI::App& app) {
  struct Config {
    pipeline::TrainStep step;
    std::string out = "runs/default";
    std::string preset = "fast";
    train::TrainOverrides given;
    uint64_t seed = 0;
    DataFlags data;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand("train", "Train the VAE and save it as RUN/model.pt");
  cmd->add_option("--out", cfg->out, "Run folder (created if needed)")->capture_default_str();
  add_data_options(*cmd, cfg->step.data, cfg->data);
  add_vae_options(*cmd, cfg->step.vae);
  add_train_options(*cmd, cfg->preset, cfg->given);
  cmd->add_option("--train-images", cfg->step.train_images, "Range of training images")
      ->capture_default_str();
  cmd->add_option("--eval-images", cfg->step.eval_images,
                  "Range of test images for the held-out figure after each epoch (exact "
                  "log-likelihood for L = 2, else an IWAE bound), which drives the schedule and "
                  "the epoch kept, or none")
      ->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "Seed of all randomness")->capture_default_str();
  cmd->callback([cfg] {
    finish_data_options(cfg->step.data, cfg->data);
    cfg->step.train = train::train_config(cfg->preset, cfg->given, cfg->seed);
    auto run = run::RunFolder::create(cfg->out);
    util::print_config("train", {{"out", cfg->out},
                                 {"train", cfg->step.train.to_json()},
                                 {"vae", cfg->step.vae.to_json()},
                                 {"data", cfg->step.data.source}});
    pipeline::train_model(run, cfg->step);
  });
}

}  // namespace preimage::cli
