// preimage report: the thesis's figures and a readable report (report.html, report.md) from a run
// folder, and from its analysis.json when `preimage analyze` wrote one.
#include <memory>

#include "cli/commands.h"
#include "pipeline/report_step.h"
#include "util/error.h"

namespace preimage::cli {

void add_report_command(CLI::App& app) {
  struct Config {
    pipeline::ReportStep step;
    std::string run;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "report", "Figures (RUN/figures/*.png), RUN/report.html (self-contained) and RUN/report.md");
  cmd->add_option("run", cfg->run, "Run folder (from preimage run)")->required();
  cmd->add_option("--images", cfg->step.images,
                  "Positions (in the run) of the images of the 'chosen images' panel (default: "
                  "those with loss curves, then the first ones, 6 in all)")
      ->delimiter(',');
  cmd->add_option("--ranked", cfg->step.ranked,
                  "Images in each best/worst panel (the thesis's figures 11-13)")
      ->capture_default_str();
  cmd->add_option("--manifold-points", cfg->step.manifold_points,
                  "Latent grid points per axis of the decoder's manifold")
      ->capture_default_str();
  cmd->add_option("--manifold-radius", cfg->step.manifold_radius,
                  "The manifold covers [-r, r]^2 of the latent plane")
      ->capture_default_str();
  cmd->add_option("--arrows", cfg->step.max_arrows,
                  "Arrows drawn in the vector field (a regular subsample of the images)")
      ->capture_default_str();
  cmd->add_option("--points", cfg->step.max_points,
                  "Points per panel of the latent scatter (a regular subsample)")
      ->capture_default_str();
  cmd->add_option("--bins", cfg->step.histogram_bins, "Bins of the delta histogram")
      ->capture_default_str();
  cmd->add_flag("--browser-check", cfg->step.browser_check,
                "Open report.html in headless Chromium: screenshot (RUN/report_screenshot.png), "
                "broken images, script errors");
  cmd->callback([cfg] {
    auto run = run::RunFolder::open(cfg->run);
    const auto out = pipeline::write_report(run, cfg->step);
    pipeline::print_report_output(out);
    if (out.browser && !out.browser->ok())
      throw UserError("report.html failed the browser check: " + out.browser->summary(),
                      "look at " + out.screenshot.string());
  });
}

}  // namespace preimage::cli
