// preimage complete: fill in the missing part of images by inverting on the known pixels.
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/complete_step.h"
#include "run/run_folder.h"

namespace preimage::cli {

void add_complete_command(CLI::App& app) {
  struct Config {
    pipeline::CompleteStep step;
    std::string run;
    DataFlags data;
    ModelFlags model;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "complete", "Complete partly known images: invert on the known pixels, fill in the rest");
  cmd->add_option("run", cfg->run, "Run folder whose model (and, without --data, images) to use")
      ->required();
  cmd->add_option("--out", cfg->step.out, "Output folder (default: RUN/completion)");
  add_data_options(*cmd, cfg->step.data, cfg->data);
  add_model_options(*cmd, cfg->step.model, cfg->model);
  cmd->add_option("--images", cfg->step.images,
                  "Images: N (first N), A:B, or all (default: the run's first 8)");
  cmd->add_option("--rect", cfg->step.rect,
                  "Known pixels: rows R0:R1, columns C0:C1, e.g. 0:14,0:28 (the top half)");
  cmd->add_option("--mask", cfg->step.mask_file,
                  "Or a mask image: PNG (grey > 127) or .npy (nonzero) = known pixel");
  cmd->add_flag("--missing", cfg->step.missing, "The rectangle or mask marks the missing pixels");
  add_method_option(*cmd, cfg->step.method);
  add_method_settings(*cmd, cfg->step.settings);
  cmd->add_option("--start", cfg->step.start, "encoder (of the masked image) or prior")
      ->check(CLI::IsMember({"encoder", "prior"}))
      ->capture_default_str();
  add_loss_options(*cmd, cfg->step.loss);
  cmd->callback([cfg, cmd] {
    finish_data_options(cfg->step.data, cfg->data);
    finish_model_options(cfg->step.model, cfg->model, cfg->data);
    auto run = run::RunFolder::open(cfg->run);
    const auto step = pipeline::completion_of_run(run, cfg->step, cmd->count("--data") > 0,
                                                  cmd->count("--images") > 0);
    pipeline::complete_images(step);
  });
}

}  // namespace preimage::cli
