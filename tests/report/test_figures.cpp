// Every figure type yields a valid PNG of the requested size; a failing gnuplot script is an error
// that leaves no file behind; a missing gnuplot says how to install it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "report/figures.h"
#include "report/gnuplot.h"
#include "report_test_util.h"
#include "util/error.h"

namespace preimage::report {
namespace {

using testing::count_temp_files;
using testing::read_png_header;
using FiguresTest = testing::ScratchTest;

constexpr uintmax_t kMinFigureBytes = 5000;  // a plot with axes and text is well above this

// Checks `png` is a PNG of width x height with real content.
void expect_figure(const fs::path& png, uint32_t width, uint32_t height) {
  ASSERT_TRUE(fs::exists(png)) << png;
  EXPECT_GT(fs::file_size(png), kMinFigureBytes) << png;
  const auto header = read_png_header(png);
  ASSERT_TRUE(header.valid) << png << " has no PNG signature";
  EXPECT_EQ(header.width, width);
  EXPECT_EQ(header.height, height);
  EXPECT_EQ(count_temp_files(png.parent_path()), 0);
}

// Loss curves of three methods that decay at different rates, with noise.
std::vector<Series> loss_curves(bool against_time) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.03);
  std::vector<Series> series;
  const std::vector<std::pair<std::string, double>> methods = {
      {"MN_adam", 0.03}, {"MN_lbfgs", 0.12}, {"MN_gauss_newton", 0.4}};
  for (size_t m = 0; m < methods.size(); ++m) {
    Series s{methods[m].first, {}, {}};
    for (int step = 0; step <= 200; ++step) {
      const double time = step * 0.01 * (1 + m);  // seconds: later methods are slower per step
      s.x.push_back(against_time ? time : step);
      s.y.push_back(40.0 * std::exp(-methods[m].second * step) * std::exp(noise(rng)) + 8.0);
    }
    series.push_back(s);
  }
  return series;
}

TEST_F(FiguresTest, LinePlotLogScaleLossCurves) {
  const fs::path png = dir() / "loss_curves.png";
  LinePlotOptions options;
  options.log_y = true;
  line_plot(png, loss_curves(false),
            {"Loss during optimisation (mean over 500 images)", "iteration", "||D(y) - z||^2"},
            options);
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, LinePlotLossAgainstTime) {
  const fs::path png = dir() / "loss_time.png";
  line_plot(png, loss_curves(true),
            {"Loss against time, one line per method", "time (s)", "mean loss"});
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, LinePlotCustomCanvasAndMarkers) {
  const fs::path png = dir() / "small.png";
  LinePlotOptions options;
  options.canvas = {600, 400, 10};
  options.markers = true;
  line_plot(png, {{"a", {1, 2, 3}, {3, 1, 2}}}, {"small", "x", "y"}, options);
  expect_figure(png, 600, 400);
}

TEST_F(FiguresTest, LinePlotManySeriesOverDecades) {
  // Twelve series (dashes take over after ten colours), losses over six decades, gaps from NaN.
  std::vector<Series> series;
  for (int m = 0; m < 12; ++m) {
    Series s{"method_" + std::to_string(m), {}, {}};
    for (int step = 1; step <= 100; ++step) {
      s.x.push_back(step);
      s.y.push_back(step == 50 && m == 0 ? std::nan("") : 100.0 * std::pow(step, -1.0 - 0.2 * m));
    }
    series.push_back(s);
  }
  LinePlotOptions options;
  options.log_x = true;
  options.log_y = true;
  const fs::path png = dir() / "many.png";
  line_plot(png, series, {"Twelve methods", "iteration", "loss"}, options);
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, HistogramFromCountsAndEdges) {
  std::vector<double> edges, counts;
  for (int i = 0; i <= 40; ++i) edges.push_back(-10.0 + i * 2.5);
  for (int i = 0; i < 40; ++i) {
    const double centre = 0.5 * (edges[i] + edges[i + 1]);
    counts.push_back(std::round(400.0 * std::exp(-0.5 * std::pow((centre - 25.0) / 15.0, 2))));
  }
  HistogramOptions options;
  options.marks = {{0.0, "no change"}, {25.0, "mean 25.0 %"}};
  const fs::path png = dir() / "delta_histogram.png";
  histogram_plot(png, counts, edges, {"Improvement of MN over MT", "delta (%)", "images"}, options);
  expect_figure(png, 900, 650);
}

// Points around ten cluster centres on a circle, class = cluster.
ClassPoints clusters(const std::string& title, double spread, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, spread);
  ClassPoints points{title, {}, {}, {}};
  for (int i = 0; i < 2000; ++i) {
    const int digit = i % 10;
    const double angle = digit * 2 * M_PI / 10;
    points.x.push_back(2.0 * std::cos(angle) + noise(rng));
    points.y.push_back(2.0 * std::sin(angle) + noise(rng));
    points.classes.push_back(digit);
  }
  return points;
}

TEST_F(FiguresTest, ScatterByClassTwoPanels) {
  const fs::path png = dir() / "latent_mt_mn.png";
  scatter_by_class(png,
                   {clusters("encoder means (MT)", 0.6, 1), clusters("preimages (MN)", 0.4, 2)},
                   {"Latent space coloured by digit", "y1", "y2"});
  expect_figure(png, 1550, 650);
}

TEST_F(FiguresTest, ScatterByClassOnePanel) {
  const fs::path png = dir() / "latent_mt.png";
  scatter_by_class(png, {clusters("encoder means (MT)", 0.6, 1)}, {"", "y1", "y2"});
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, GroupedBarChartWithErrorBars) {
  std::vector<std::string> digits;
  for (int d = 0; d < 10; ++d) digits.push_back(std::to_string(d));
  std::vector<BarSeries> series;
  for (const std::string method : {"MN_adam", "MN_lbfgs", "MB"}) {
    BarSeries s{method, {}, {}};
    for (int d = 0; d < 10; ++d) {
      s.values.push_back(10.0 + 3.0 * d + 5.0 * static_cast<double>(series.size()));
      s.errors.push_back(1.0 + 0.2 * d);
    }
    series.push_back(s);
  }
  const fs::path png = dir() / "delta_by_digit.png";
  bar_chart(png, digits, series,
            {"Mean improvement by digit", "digit", "mean delta (%) +- standard error"});
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, SingleSeriesBarChart) {
  const fs::path png = dir() / "success_by_digit.png";
  bar_chart(png, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
            {{"success rate", {0.91, 0.99, 0.82, 0.85, 0.88, 0.8, 0.93, 0.9, 0.78, 0.86}, {}}},
            {"Success rate by digit", "digit", "fraction of images improved"});
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, QuiverWithColourAndOpacityPerArrow) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<Arrow> arrows;
  for (int i = 0; i < 150; ++i) {
    Arrow a;
    a.x = 2 * normal(rng);
    a.y = 2 * normal(rng);
    a.dx = -0.25 * a.x + 0.2 * normal(rng);
    a.dy = -0.25 * a.y + 0.2 * normal(rng);
    a.rgb = i % 3 == 0 ? kRed : kBlue;
    a.opacity = 0.25 + 0.75 * (i % 4) / 3.0;
    arrows.push_back(a);
  }
  QuiverOptions options;
  options.legend = {{"MN better than MT", kBlue}, {"MN worse than MT", kRed}};
  options.mark_tails = true;
  const fs::path png = dir() / "quiver.png";
  quiver_plot(png, arrows, {"From encoder mean MT to preimage MN", "y1", "y2"}, options);
  expect_figure(png, 900, 650);
}

TEST_F(FiguresTest, FailingScriptIsAnErrorAndLeavesNoFile) {
  const fs::path png = dir() / "broken.png";
  try {
    run_gnuplot("plot no_such_function(x)\n", png);
    FAIL() << "a failing gnuplot script must throw";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gnuplot failed"), std::string::npos) << what;
    EXPECT_NE(what.find("no_such_function"), std::string::npos)
        << "gnuplot's stderr is quoted: " << what;
  }
  EXPECT_FALSE(fs::exists(png));
  EXPECT_EQ(count_temp_files(dir()), 0);
}

TEST_F(FiguresTest, FailingScriptDoesNotReplaceAnExistingFigure) {
  const fs::path png = dir() / "kept.png";
  line_plot(png, {{"a", {1, 2}, {1, 2}}}, {"t", "x", "y"});
  const auto before = fs::file_size(png);
  EXPECT_THROW(run_gnuplot("plot no_such_function(x)\n", png), UserError);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_EQ(fs::file_size(png), before);
}

TEST_F(FiguresTest, EarlyGnuplotExitWhileWritingIsAnErrorNotSigpipe) {
  // gnuplot stops at the first line; the megabytes after it hit a closed pipe. The process must
  // survive (no SIGPIPE) and report gnuplot's error.
  std::string script = "this is not gnuplot\n";
  std::string filler(1 << 20, '#');
  for (int i = 0; i < 8; ++i) script += filler + "\n";
  EXPECT_THROW(run_gnuplot(script, dir() / "x.png"), UserError);
  EXPECT_FALSE(fs::exists(dir() / "x.png"));
}

TEST_F(FiguresTest, MissingGnuplotIsAClearError) {
  try {
    run_gnuplot("plot x\n", dir() / "x.png", {}, "gnuplot-that-is-not-installed");
    FAIL() << "a missing gnuplot must throw";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot not found: install gnuplot-nox"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir() / "x.png"));
}

TEST_F(FiguresTest, InconsistentDataIsRejectedBeforeGnuplot) {
  EXPECT_THROW(line_plot(dir() / "a.png", {{"a", {1, 2, 3}, {1, 2}}}, {}), std::invalid_argument);
  EXPECT_THROW(line_plot(dir() / "a.png", {}, {}), std::invalid_argument);
  EXPECT_THROW(histogram_plot(dir() / "a.png", {1, 2}, {0, 1}, {}), std::invalid_argument);
  EXPECT_THROW(histogram_plot(dir() / "a.png", {1, 2}, {0, 2, 1}, {}), std::invalid_argument);
  EXPECT_THROW(scatter_by_class(dir() / "a.png", {{"p", {0}, {0}, {10}}}, {}),
               std::invalid_argument);
  EXPECT_THROW(bar_chart(dir() / "a.png", {"a", "b"}, {{"s", {1}, {}}}, {}), std::invalid_argument);
  // All losses non-positive on a log axis: nothing to draw is an error, not an empty figure.
  LinePlotOptions log_y;
  log_y.log_y = true;
  EXPECT_THROW(line_plot(dir() / "a.png", {{"a", {1, 2}, {0, -1}}}, {}, log_y),
               std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir() / "a.png"));
}

TEST(GnuplotText, StringsAndNumbersAreQuotedForGnuplot) {
  EXPECT_EQ(gnuplot_string("it's"), "'it''s'");
  EXPECT_EQ(gnuplot_string("a\nb"), "'a b'");
  EXPECT_EQ(datablock_string("say \"hi\""), "\"say 'hi'\"");
  EXPECT_EQ(gnuplot_number(0.5), "0.5");
  EXPECT_EQ(gnuplot_number(std::nan("")), "NaN");
  EXPECT_EQ(gnuplot_number(1.0 / 0.0), "NaN");
  EXPECT_EQ(datablock("d", {{1, 2}, {3, 4}}), "$d << EOD\n1 3\n2 4\nEOD\n");
  EXPECT_THROW(datablock("d", {{1, 2}, {3}}), std::invalid_argument);
}

}  // namespace
}  // namespace preimage::report
