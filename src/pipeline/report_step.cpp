// The report's order and its files; each section lives in report_*.cpp (report_context.h).
#include "pipeline/report_step.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "pipeline/report_context.h"
#include "report/subprocess.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {

void require_report_tools() {
  require(report::find_program("gnuplot").has_value(),
          "gnuplot was not found in $PATH: the report's figures are drawn with it",
          "install it (sudo apt-get install gnuplot-nox; scripts/setup.sh does), or pass "
          "--no-report to preimage run");
}

ReportOutput write_report(run::RunFolder& run, const ReportStep& step) {
  using namespace report_sections;
  require_report_tools();  // before any work: every figure needs gnuplot
  require(step.ranked >= 1 && step.manifold_points >= 2 && step.max_arrows >= 1 &&
              step.max_points >= 1 && step.histogram_bins >= 1 && step.manifold_radius > 0,
          fmt::format("report settings out of range (ranked {}, manifold points {}, radius {}, "
                      "arrows {}, points {}, bins {})",
                      step.ranked, step.manifold_points, step.manifold_radius, step.max_arrows,
                      step.max_points, step.histogram_bins),
          "each must be at least 1 (manifold points at least 2, radius positive)");
  const auto t0 = std::chrono::steady_clock::now();
  ReportContext c(run, step);
  util::ensure_writable_dir(c.figures);
  c.chosen = chosen_images(c);  // checked before any figure
  // Results first; what each method used after them; the whole configuration last.
  results_section(c);
  loss_curve_section(c);
  latent_space_section(c);
  delta_section(c);
  panel_section(c);
  success_section(c);
  normality_section(c);
  bonus_section(c);
  vector_section(c);
  likelihood_section(c);
  certificate_section(c);
  solver_comparison_section(c);
  settings_section(c);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  timings_section(c, seconds);  // includes the report's own time
  configuration_appendix(c);
  ReportOutput out = std::move(c.out);
  c.doc.write(run.path());
  out.html = run.path() / "report.html";
  out.markdown = run.path() / "report.md";
  out.seconds = seconds;

  run::ReportRecord record;
  record.seconds = seconds;
  for (const auto& f : out.figures) record.figures.push_back(f.lexically_relative(run.path()).string());
  record.notes = out.notes;
  run.set_report(record);
  run.save_manifest();

  if (step.browser_check) {
    out.screenshot = run.path() / "report_screenshot.png";
    out.browser = report::check_in_browser(out.html, out.screenshot);
  }
  return out;
}

void print_report_output(const ReportOutput& out) {
  std::printf("report: %s (%zu figures in %s, %.1f s)\n", out.html.c_str(), out.figures.size(),
              (out.html.parent_path() / "figures").c_str(), out.seconds);
  std::printf("        %s\n", out.markdown.c_str());
  for (const auto& n : out.notes) std::printf("  not shown: %s\n", n.c_str());
  if (out.browser)
    std::printf("browser check: %s (screenshot %s)\n", out.browser->summary().c_str(),
                out.screenshot.c_str());
  std::fflush(stdout);
}

}  // namespace preimage::pipeline
