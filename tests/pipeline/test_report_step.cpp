// `preimage report` on the shared run (6000 training images, two epochs, 200 images inverted),
// through the executable as a user runs it: every figure of issue 5 is a valid PNG, report.md
// references each, report.html opens in headless Chromium with no broken image and no script
// error; a run without analysis.json still reports, saying what is missing; bad input is a clear
// error.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "../report/report_test_util.h"
#include "cli_runner.h"
#include "fixture_runs.h"
#include "report/browser_check.h"
#include "util/atomic_file.h"

namespace preimage {
namespace {

namespace fs = std::filesystem;
using report::testing::read_png_header;
using test_support::contains;
using test_support::run_cli;

// The figures every report of a labelled L = 2 run has, whatever analyze wrote.
const char* const kExpectedFigures[] = {
    "loss_curve_0.png",
    "loss_curve_3.png",
    "latent_space.png",
    "manifold.png",
    "delta_histogram_adafactor.png",
    "digit_delta.png",
    "panel_chosen_grey.png",
    "panel_chosen_binarized.png",
    "panel_best_delta_grey.png",
    "panel_best_delta_binarized.png",
    "panel_lowest_loss_grey.png",
    "panel_lowest_loss_binarized.png",
    "panel_highest_loss_grey.png",
    "panel_highest_loss_binarized.png",
    "vector_field_adafactor.png",
};

// The shared run, which `preimage run` ended by writing the report.
class ReportingTest : public ::testing::Test {
 protected:
  static fs::path run_dir() { return test_support::fixture_run(); }
  // A copy of the run, to change without disturbing the other tests.
  static fs::path copy_of_run(const std::string& name) {
    return test_support::copy_fixture(run_dir(), "reporting_" + name);
  }
};

TEST_F(ReportingTest, RunEndsWithTheReportAndEveryFigureIsAValidPng) {
  const auto output = test_support::fixture_run_output();
  EXPECT_TRUE(contains(output, "report: ")) << output;
  ASSERT_TRUE(fs::exists(run_dir() / "report.html"));
  ASSERT_TRUE(fs::exists(run_dir() / "report.md"));
  for (const char* name : kExpectedFigures) {
    const auto png = run_dir() / "figures" / name;
    ASSERT_TRUE(fs::exists(png)) << name;
    const auto header = read_png_header(png);
    EXPECT_TRUE(header.valid) << name;
    EXPECT_GE(header.width, 200u) << name;
    EXPECT_GE(header.height, 100u) << name;
  }
  // No temporary file left behind by an atomic write.
  for (const auto& entry : fs::directory_iterator(run_dir() / "figures"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  // The manifest records what the report step wrote.
  const auto manifest = nlohmann::json::parse(util::read_file(run_dir() / "manifest.json"));
  ASSERT_TRUE(manifest.contains("report"));
  EXPECT_GE(manifest["report"]["figures"].size(), std::size(kExpectedFigures));
}

TEST_F(ReportingTest, MarkdownReferencesEveryFigureAndTheThesisSections) {
  const std::string md = util::read_file(run_dir() / "report.md");
  std::set<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(run_dir() / "figures"))
    on_disk.insert(entry.path().filename().string());
  for (const auto& name : on_disk)
    EXPECT_TRUE(contains(md, "figures/" + name)) << name << " is not referenced in report.md";
  for (const char* part : {"Settings", "Results", "Loss curves", "Latent spaces", "Deltas",
                           "Decoded images", "Success rate", "Normality", "Bonus model",
                           "Vector analysis", "Solver comparison", "Timings", "annex E",
                           "Appendix: the whole configuration"})
    EXPECT_TRUE(contains(md, part)) << part;
  // Results first, settings after them, the whole configuration last.
  EXPECT_LT(md.find("## Results"), md.find("## Settings"));
  EXPECT_LT(md.find("## Settings"), md.find("## Appendix"));
  // Each method's row shows the settings it uses only: adafactor has a learning rate, no
  // L-BFGS history and no grid.
  const auto settings = md.substr(md.find("## Settings"));
  const auto row = settings.substr(settings.find("| adafactor |"));
  const auto line = row.substr(0, row.find('\n'));
  EXPECT_TRUE(contains(line, "max_iterations = 150")) << line;
  EXPECT_TRUE(contains(line, "learning_rate = 0.0010")) << line;
  EXPECT_FALSE(contains(line, "history")) << line;
  EXPECT_FALSE(contains(line, "grid_points")) << line;
}

TEST_F(ReportingTest, DigitPanelsLabelTheirRows) {
  // Six columns of 84-pixel digits with 2-pixel separators are 514 pixels wide; the row labels
  // (target z, D(MN), D(MT), D(MB), D(MA)) add a margin on the left.
  const auto header = read_png_header(run_dir() / "figures" / "panel_chosen_grey.png");
  ASSERT_TRUE(header.valid);
  EXPECT_GT(header.width, 514u + 40u);
  EXPECT_EQ(header.height, 5u * 84u + 4u * 2u);
}

TEST_F(ReportingTest, HtmlOpensInChromiumWithEveryImageAndNoScriptError) {
  if (!report::browser_available()) {
    FAIL() << "chromium is not installed (scripts/setup.sh installs it): the report must be "
              "checked in a real browser";
  }
  const auto screenshot = test_support::fresh_dir("reporting_browser") / "screenshot.png";
  const auto check = report::check_in_browser(run_dir() / "report.html", screenshot);
  EXPECT_TRUE(check.ok()) << check.summary();
  size_t figures = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(run_dir() / "figures")) ++figures;
  EXPECT_EQ(check.image_count, static_cast<int>(figures)) << check.summary();
  EXPECT_EQ(check.broken_images, 0);
  EXPECT_TRUE(check.script_errors.empty()) << check.summary();
  const auto header = read_png_header(screenshot);
  EXPECT_TRUE(header.valid);
  EXPECT_GT(header.width, 0u);
}

TEST_F(ReportingTest, WithoutAnalysisJsonTheReportSaysToRunAnalyze) {
  const auto dir = copy_of_run("no_analysis");
  fs::remove(dir / "analysis.json");
  fs::remove_all(dir / "figures");
  const auto r = run_cli("report " + dir.string() + " --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "not shown")) << r.output;
  const std::string md = util::read_file(dir / "report.md");
  EXPECT_TRUE(contains(md, "run preimage analyze")) << md;
  // The figures that need only the run folder are all there.
  for (const char* name : kExpectedFigures) EXPECT_TRUE(fs::exists(dir / "figures" / name)) << name;
}

TEST_F(ReportingTest, SolverBenchmarkResultsGiveTheComparisonFigure) {
  const auto dir = copy_of_run("benchmark");
  // What `preimage bench-solvers` writes (src/pipeline/solver_benchmark.cpp), two methods.
  const nlohmann::json bench = {
      {"images", 200},
      {"range", "0:200"},
      {"methods",
       {{{"method", "adafactor"}, {"seconds", 2.5}, {"images_per_second", 80.0},
         {"mean_initial_loss", 40.0}, {"mean_final_loss", 39.0}, {"mean_delta_pct", -2.5},
         {"within_oracle", 0.01}, {"converged", 0.0}, {"mean_iterations", 150.0}},
        {{"method", "lbfgs"}, {"seconds", 0.4}, {"images_per_second", 500.0},
         {"mean_initial_loss", 40.0}, {"mean_final_loss", 36.0}, {"mean_delta_pct", -10.0},
         {"within_oracle", 0.9}, {"converged", 0.99}, {"mean_iterations", 20.0}}}}};
  util::write_file_atomic(dir / "solver_benchmark.json", bench.dump(2));
  const auto r = run_cli("report " + dir.string() + " --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(read_png_header(dir / "figures" / "solver_comparison.png").valid);
  const std::string md = util::read_file(dir / "report.md");
  EXPECT_TRUE(contains(md, "figures/solver_comparison.png"));
  EXPECT_TRUE(contains(md, "lbfgs"));
}

TEST_F(ReportingTest, ChosenImagesOutsideTheRunAreAClearError) {
  const auto dir = copy_of_run("bad_images");
  const auto r = run_cli("report " + dir.string() + " --images 0,5000 --quiet");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "5000")) << r.output;
  EXPECT_TRUE(contains(r.output, "HINT")) << r.output;
}

TEST(ReportingErrors, MissingRunFolderIsAClearError) {
  const auto r = run_cli("report /nonexistent/preimage-run --quiet");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "/nonexistent/preimage-run")) << r.output;
  EXPECT_TRUE(contains(r.output, "does not exist")) << r.output;
  EXPECT_TRUE(contains(r.output, "HINT")) << r.output;
}

}  // namespace
}  // namespace preimage
