// Every figure type yields a valid PNG of the requested size; a failing gnuplot script is an error
// that leaves no file behind; a missing gnuplot says how to install it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
// Debian's libstb ships the implementation compiled; only the declarations are included here.
#include <stb/stb_image.h>

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
// scatter_by_class's default canvas: pixels per column and per row of panels, and of the legend.
constexpr int kScatterColumn = 600, kScatterRow = 560, kScatterLegend = 170;

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

// Evenly spaced values from lo to hi, n of them: a bulk with no outlier.
std::vector<double> evenly(double lo, double hi, int n) {
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(lo + (hi - lo) * i / (n - 1));
  return values;
}

TEST(BulkRange, WithoutOutliersCoversEveryValuePadded) {
  const AxisRange r = bulk_range(evenly(-4, 4, 1000));
  EXPECT_DOUBLE_EQ(r.lo, -4 - 0.04 * 8);
  EXPECT_DOUBLE_EQ(r.hi, 4 + 0.04 * 8);
  const AxisRange unpadded = bulk_range(evenly(-4, 4, 1000), 0.005, 0.5, /*pad=*/0);
  EXPECT_DOUBLE_EQ(unpadded.lo, -4);
  EXPECT_DOUBLE_EQ(unpadded.hi, 4);
}

TEST(BulkRange, AnOrdinarySpreadIsNeverCut) {
  // Normal samples: the 0.5 % and 99.5 % quantiles alone would leave about 1 % of them outside.
  std::mt19937 rng(11);
  std::normal_distribution<double> normal(1.0, 3.0);
  std::vector<double> values(20000);
  for (double& v : values) v = normal(rng);
  const AxisRange r = bulk_range(values);
  for (double v : values)
    ASSERT_TRUE(r.contains(v)) << v << " outside [" << r.lo << ", " << r.hi << "]";
}

TEST(BulkRange, FarOutliersAreLeftOutOnBothSides) {
  std::vector<double> values = evenly(-4, 4, 1000);
  const AxisRange bulk = bulk_range(values);
  values.push_back(50);
  values.push_back(-47);
  const AxisRange r = bulk_range(values);
  EXPECT_DOUBLE_EQ(r.lo, bulk.lo);
  EXPECT_DOUBLE_EQ(r.hi, bulk.hi);
  EXPECT_FALSE(r.contains(50));
  EXPECT_FALSE(r.contains(-47));
  EXPECT_TRUE(r.contains(4));
  // A point just beyond the bulk (within half its span) is no outlier: the range reaches it.
  values.push_back(7);
  EXPECT_DOUBLE_EQ(bulk_range(values).hi, 7 + 0.04 * 11);
  // tail 0: the axes cover every point, the outliers included.
  const AxisRange all = bulk_range(values, /*tail=*/0);
  EXPECT_TRUE(all.contains(50));
  EXPECT_TRUE(all.contains(-47));
}

TEST(BulkRange, FewPointsAreAllShown) {
  // Four points cannot tell an outlier from the bulk.
  const AxisRange r = bulk_range({0, 1, 2, 50});
  EXPECT_TRUE(r.contains(0));
  EXPECT_TRUE(r.contains(50));
}

TEST(BulkRange, NonFiniteValuesAreIgnored) {
  std::vector<double> values = evenly(-4, 4, 1000);
  const AxisRange expected = bulk_range(values);
  values.insert(values.begin(), std::nan(""));
  values.push_back(std::numeric_limits<double>::infinity());
  values.push_back(-std::numeric_limits<double>::infinity());
  const AxisRange r = bulk_range(values);
  EXPECT_DOUBLE_EQ(r.lo, expected.lo);
  EXPECT_DOUBLE_EQ(r.hi, expected.hi);
}

TEST(BulkRange, DegenerateInputs) {
  // All equal: the padding is pad * max(1, |value|) on each side, never an empty range.
  const AxisRange equal = bulk_range(std::vector<double>(500, 3.0));
  EXPECT_DOUBLE_EQ(equal.lo, 3.0 - 0.04 * 3.0);
  EXPECT_DOUBLE_EQ(equal.hi, 3.0 + 0.04 * 3.0);
  const AxisRange single = bulk_range({0.0});
  EXPECT_DOUBLE_EQ(single.lo, -0.04);
  EXPECT_DOUBLE_EQ(single.hi, 0.04);
  const AxisRange single_with_nan = bulk_range({std::nan(""), -10.0});
  EXPECT_DOUBLE_EQ(single_with_nan.lo, -10.4);
  EXPECT_DOUBLE_EQ(single_with_nan.hi, -9.6);
  // A bulk of equal values: its fence is half of max(1, |value|) wide.
  std::vector<double> values(999, 0.0);
  values.push_back(0.3);
  EXPECT_TRUE(bulk_range(values).contains(0.3));
  values.push_back(5.0);
  EXPECT_FALSE(bulk_range(values).contains(5.0));
  EXPECT_TRUE(bulk_range(values).contains(0.3));
  // Nothing finite, or parameters out of range: an error that says what was wrong.
  EXPECT_THROW(bulk_range({}), std::invalid_argument);
  try {
    bulk_range({std::nan(""), std::nan("")});
    FAIL() << "no finite value must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("none of the 2 values is finite"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(bulk_range({1, 2}, /*tail=*/0.5), std::invalid_argument);
  EXPECT_THROW(bulk_range({1, 2}, /*tail=*/-0.1), std::invalid_argument);
  EXPECT_THROW(bulk_range({1, 2}, 0.005, /*fence=*/-1), std::invalid_argument);
  EXPECT_THROW(bulk_range({1, 2}, 0.005, 0.5, /*pad=*/std::nan("")), std::invalid_argument);
}

// An RGB image read back from a PNG.
struct Rgb {
  int width = 0, height = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels{nullptr, stbi_image_free};
  const unsigned char* at(int row, int col) const {
    return pixels.get() + (static_cast<size_t>(row) * width + col) * 3;
  }
  // A point's colour (blended with white by its opacity), not the black, white and greys of
  // text, frame and grid.
  bool colourful(int row, int col) const {
    const unsigned char* p = at(row, col);
    return std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]}) > 40;
  }
  // Colourful pixels in rows [top, bottom) and columns [left, right).
  int count_colourful(int top, int bottom, int left, int right) const {
    int n = 0;
    for (int row = top; row < bottom; ++row) {
      for (int col = left; col < right; ++col) n += colourful(row, col);
    }
    return n;
  }
};

Rgb read_rgb(const fs::path& png) {
  Rgb image;
  int channels = 0;
  image.pixels.reset(stbi_load(png.c_str(), &image.width, &image.height, &channels, 3));
  EXPECT_NE(image.pixels, nullptr) << png << ": " << stbi_failure_reason();
  return image;
}

TEST_F(FiguresTest, ScatterPanelsFormAGridOfAtMostThreeColumns) {
  // Panels -> columns x rows, and the canvas about 600 px per column (with the legend's column;
  // at least 900 px) and 560 px per row (at least 650 px). Widths stay readable at page width.
  struct Case {
    int panels, cols, rows;
  };
  for (const Case& c :
       {Case{1, 1, 1}, Case{2, 2, 1}, Case{3, 3, 1}, Case{4, 2, 2}, Case{5, 3, 2}, Case{7, 3, 3}}) {
    SCOPED_TRACE(c.panels);
    std::vector<ClassPoints> panels;
    for (int p = 0; p < c.panels; ++p)
      panels.push_back(clusters("panel " + std::to_string(p), 0.5, 10 + p));
    const fs::path png = dir() / ("grid" + std::to_string(c.panels) + ".png");
    scatter_by_class(png, panels, {"Latent points", "y1", "y2"});
    expect_figure(png, std::max(900, kScatterColumn * c.cols + kScatterLegend),
                  std::max(650, kScatterRow * c.rows));
    EXPECT_LT(read_png_header(png).width, 2500u);
  }
}

TEST_F(FiguresTest, FivePanelsMakeTwoRowsOfThree) {
  // MT, three methods' MN, MB: the latent-space figure of a report.
  std::vector<ClassPoints> panels = {clusters("encoder means (MT)", 0.6, 1)};
  unsigned seed = 2;
  for (const std::string method : {"adam", "lbfgs", "grid"})
    panels.push_back(clusters("MN (" + method + ")", 0.4, seed++));
  panels.push_back(clusters("MB", 0.5, 9));
  const fs::path png = dir() / "latent_space.png";
  scatter_by_class(png, panels, {"Latent points coloured by digit", "y_1", "y_2"});
  const Rgb image = read_rgb(png);
  ASSERT_NE(image.pixels, nullptr);
  EXPECT_LT(image.width, 2500);
  EXPECT_GT(image.height, 1000) << "two rows of panels about 560 px high";
  const int w = image.width, h = image.height;
  // Points in the top and the bottom half; none in the sixth cell, bottom right (the legend is at
  // the top right).
  EXPECT_GT(image.count_colourful(0, h / 2, 0, w / 3), 2000);
  EXPECT_GT(image.count_colourful(h / 2, h, 0, w / 3), 2000);
  EXPECT_GT(image.count_colourful(h / 2, h, w / 3, 2 * w / 3), 2000);
  EXPECT_EQ(image.count_colourful(h / 2, h, 2 * w / 3 + 20, w), 0);
}

// Ten clusters within |y| < 4 of class 0, and one far point of class 1 at (50, -47).
ClassPoints with_far_point(const std::string& title) {
  ClassPoints points = clusters(title, 0.4, 5);
  std::fill(points.classes.begin(), points.classes.end(), 0);
  points.x.push_back(50);
  points.y.push_back(-47);
  points.classes.push_back(1);
  return points;
}

TEST_F(FiguresTest, AFarPointDoesNotSquashThePanel) {
  const fs::path png = dir() / "far_point.png";
  scatter_by_class(png, {with_far_point("MN (grid)")}, {"One optimum far out", "y1", "y2"});
  expect_figure(png, 900, 650);
  const Rgb image = read_rgb(png);
  ASSERT_NE(image.pixels, nullptr);
  // The clusters, centred on (0, 0), fill the panel: their centre of mass is near the middle.
  // Axes covering (50, -47) would put them into the top-left corner.
  double sum_row = 0, sum_col = 0;
  int n = 0;
  for (int row = 0; row < image.height; ++row) {
    for (int col = 0; col < image.width; ++col) {
      if (image.colourful(row, col)) {
        sum_row += row;
        sum_col += col;
        ++n;
      }
    }
  }
  ASSERT_GT(n, 5000);
  EXPECT_NEAR(sum_col / n / image.width, 0.45, 0.12);
  EXPECT_NEAR(sum_row / n / image.height, 0.5, 0.12);
  // The far point is drawn, in its class colour (orange), on the bottom border; the legend, the
  // only other orange, is at the top.
  int orange = 0;
  for (int row = image.height / 2; row < image.height; ++row) {
    for (int col = image.width / 2; col < image.width; ++col) {
      const unsigned char* p = image.at(row, col);
      orange += p[0] > 200 && p[1] > 80 && p[1] < 170 && p[2] < 90;
    }
  }
  EXPECT_GT(orange, 10) << "the off-scale marker is missing";
}

TEST_F(FiguresTest, ScatterOwnAxesPerPanelWithFarPointsAndAnEmptyPanel) {
  ScatterOptions options;
  options.same_axes = false;
  ClassPoints empty{"no finite point", {std::nan("")}, {1.0}, {2}};
  const fs::path png = dir() / "own_axes.png";
  scatter_by_class(
      png, {with_far_point("MN (grid)"), clusters("MT", 0.6, 1), empty, with_far_point("MB")},
      {"", "y1", "y2"}, options);
  expect_figure(png, 2 * kScatterColumn + kScatterLegend, 2 * kScatterRow);
}

TEST_F(FiguresTest, ScatterByClassTwoPanels) {
  const fs::path png = dir() / "latent_mt_mn.png";
  scatter_by_class(png,
                   {clusters("encoder means (MT)", 0.6, 1), clusters("preimages (MN)", 0.4, 2)},
                   {"Latent space coloured by digit", "y1", "y2"});
  expect_figure(png, 2 * kScatterColumn + kScatterLegend, 650);  // side by side, then the legend
}

TEST_F(FiguresTest, ScatterByClassOnePanelAndCustomCanvas) {
  const fs::path png = dir() / "latent_mt.png";
  scatter_by_class(png, {clusters("encoder means (MT)", 0.6, 1)}, {"", "y1", "y2"});
  expect_figure(png, 900, 650);
  ScatterOptions options;
  options.canvas = {1200, 500, 10};
  scatter_by_class(png, {clusters("MT", 0.6, 1), clusters("MN", 0.6, 2), clusters("MB", 0.6, 3)},
                   {"t", "y1", "y2"}, options);
  expect_figure(png, 1200, 500);
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
