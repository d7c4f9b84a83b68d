#pragma once
// The last step of `run`, and `preimage report RUN`: the thesis's figures and a readable report
// from a run folder (and its analysis.json when `preimage analyze` wrote one).
//
// This is the LibTorch side: it loads the run, decodes what the figures need (D(MT), D(MN),
// D(MB), the decoder's manifold) and hands plain vectors to src/report, which draws them
// (gnuplot, stb) and writes RUN/figures/*.png, RUN/report.html (self-contained) and RUN/report.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/browser_check.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

struct ReportStep {
  // Positions (in the run) of the images shown in the "chosen images" panel. Empty: the images
  // whose loss curves were recorded (--curves), then the run's first images, up to 6 in all.
  std::vector<int64_t> images;
  int64_t ranked = 9;            // images in each best/worst panel (the thesis's figures 11-13: 9)
  int64_t manifold_points = 20;  // latent grid points per axis of the manifold (20 x 20 tiles)
  double manifold_radius = 3.0;  // the manifold covers [-r, r]^2: 3 standard deviations of the prior
  int64_t max_arrows = 1000;     // arrows in the vector field: a regular subsample of the images
  int64_t max_points = 20000;    // points per panel of the latent scatter (a regular subsample)
  int64_t histogram_bins = 50;   // bins of the delta histogram
  bool browser_check = false;    // open report.html in headless Chromium: screenshot + checks
};

struct ReportOutput {
  std::filesystem::path html;                  // RUN/report.html
  std::filesystem::path markdown;              // RUN/report.md
  std::vector<std::filesystem::path> figures;  // every PNG written, in report order
  std::vector<std::string> notes;              // figures or tables left out, and why
  double seconds = 0;                          // wall time of the whole step
  std::optional<report::BrowserCheck> browser; // when browser_check was asked
  std::filesystem::path screenshot;            // RUN/report_screenshot.png when checked
};

// Writes the figures and the report of `run`. Throws UserError when gnuplot is missing (before
// any figure), when the run lacks what every report needs (MT, a method's latents and losses,
// the model), or when a chosen image is outside the run. What only analysis.json provides
// (success rates, normality tests, MB) is replaced by a note saying to run `preimage analyze`.
ReportOutput write_report(run::RunFolder& run, const ReportStep& step);

// Throws UserError (with the package to install) when gnuplot is missing: `run` calls it before
// any long work, so that a missing tool does not end a long run without its report.
void require_report_tools();

// Prints where the report is, the figure count and the notes.
void print_report_output(const ReportOutput& output);

}  // namespace preimage::pipeline
