// preimage invert: step 3 of the thesis, the decoder's empirical preimage.
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "pipeline/invert_step.h"
#include "pipeline/summary.h"

namespace preimage::cli {

void add_invert_command(CLI::App& app) {
  struct Config {
    pipeline::InvertStep step;
    std::string run;
    std::string loss = "squared-error";
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand("invert", "Invert the decoder for the run's images");
  cmd->add_option("run", cfg->run, "Run folder (after train and encode)")->required();
  add_invert_options(*cmd, cfg->step, cfg->loss);
  cmd->callback([cfg, cmd] {
    finish_invert_options(*cmd, cfg->step, cfg->loss);
    auto run = run::RunFolder::open(cfg->run);
    pipeline::invert_run(run, cfg->step);
    pipeline::print_summary(pipeline::summarize(run, cfg->step.request.method));
  });
}

}  // namespace preimage::cli
