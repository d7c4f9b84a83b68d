// preimage complete: fill in the missing part of images by inverting on the known pixels.
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/complete_step.h"
#include "run/run_folder.h"

namespace preimage::cli {

void add_complete_command(CLI::App& app) {
  struct Config {
    pipeline::CompleteStep step;
    std::string run;
    std::string loss = "squared-error";
  };
  auto cfg = std::make_shared<Config>();
  cfg->step.request.method = "grid";  // global: a mask leaves several basins plausible
  auto* cmd = app.add_subcommand(
      "complete", "Complete partly known images: invert on the known pixels, fill in the rest");
  cmd->add_option("run", cfg->run, "Run folder whose model (and, without --data, images) to use")
      ->required();
  cmd->add_option("--out", cfg->step.out, "Output folder (default: RUN/completion)");
  add_data_options(*cmd, cfg->step.data);
  cmd->add_option("--images", cfg->step.images, "Images: N (first N), A:B, or all")
      ->capture_default_str();
  cmd->add_option("--rect", cfg->step.rect,
                  "Known pixels: rows R0:R1, columns C0:C1, e.g. 0:14,0:28 (the top half)");
  cmd->add_option("--mask", cfg->step.mask_file,
                  "Or a mask image: PNG (grey > 127) or .npy (nonzero) = known pixel");
  cmd->add_flag("--missing", cfg->step.missing, "The rectangle or mask marks the missing pixels");
  cmd->add_option("--method", cfg->step.request.method, "Inversion method")
      ->check(CLI::IsMember(solvers::solver_names()))
      ->capture_default_str();
  cmd->add_option("--start", cfg->step.start, "encoder (of the masked image) or prior")
      ->check(CLI::IsMember({"encoder", "prior"}))
      ->capture_default_str();
  cmd->add_option("--loss", cfg->loss, "Objective on the known pixels")
      ->check(CLI::IsMember(solvers::loss_kind_names()))
      ->capture_default_str();
  cmd->callback([cfg, cmd] {
    auto& step = cfg->step;
    step.request.loss.kind = solvers::parse_loss_kind(cfg->loss);
    step.request.settings = solvers::SolverSettings::defaults_for(step.request.method);
    auto run = run::RunFolder::open(cfg->run);
    step.model = run.model_path();
    // Without --data: the run's own images.
    if (!cmd->count("--data") && run.manifest().contains("images")) {
      const auto& im = run.manifest()["images"];
      step.data.source = im["source"];
      step.data.split = im["split"];
      step.data.labels_path = im["labels_path"];
      step.data.data_dir = im["data_dir"].get<std::string>();
      if (!cmd->count("--images"))
        step.images = fmt::format("{}:{}", im["range"][0].get<int64_t>(),
                                  std::min(im["range"][0].get<int64_t>() + 8,
                                           im["range"][1].get<int64_t>()));
    }
    if (step.out.empty()) step.out = run.path() / "completion";
    pipeline::complete_images(step);
  });
}

}  // namespace preimage::cli
