// preimage encode: step 2 of the thesis, the encoder's latent space MT.
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/encode_step.h"

namespace preimage::cli {

void add_encode_command(CLI::App& app) {
  struct Config {
    pipeline::EncodeStep step;
    std::string run;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand("encode", "Encode images with the run's model: latents/MT.npy");
  cmd->add_option("run", cfg->run, "Run folder holding model.pt")->required();
  add_data_options(*cmd, cfg->step.data);
  cmd->add_option("--images", cfg->step.images, "Images: N (first N), A:B, or all")
      ->capture_default_str();
  cmd->add_option("--shard", cfg->step.shard, "Only part k of n of the range: k/n");
  cmd->callback([cfg] {
    auto run = run::RunFolder::open(cfg->run);
    pipeline::encode_images(run, cfg->step);
  });
}

}  // namespace preimage::cli
