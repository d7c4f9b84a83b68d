#pragma once
// The report's figures, drawn by gnuplot from plain data. Each function writes one PNG atomically
// and throws UserError if gnuplot is missing or fails; std::invalid_argument if the data are
// inconsistent (lengths that differ, bin edges that do not fit the counts).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report/gnuplot.h"

namespace preimage::report {

namespace fs = std::filesystem;

// Texts around a figure. Empty strings are left out.
struct Labels {
  std::string title;    // above the plot
  std::string x_label;  // under the x axis, with the unit where there is one
  std::string y_label;  // beside the y axis
};

// The ten colours of matplotlib's "tab10" palette, 0xRRGGBB: distinguishable, also in greyscale
// print. Series i and digit class i use colour i (mod 10).
extern const uint32_t kPalette[10];
constexpr uint32_t kBlue = 0x1f77b4;  // kPalette[0]
constexpr uint32_t kRed = 0xd62728;   // kPalette[3]

// ---- line plot: loss curves, loss against time -------------------------------------------------

// One named line; x and y have the same length. Non-finite values leave a gap.
struct Series {
  std::string name;       // legend entry
  std::vector<double> x;  // (n,)
  std::vector<double> y;  // (n,)
};

struct LinePlotOptions {
  Canvas canvas;
  bool log_x = false;  // logarithmic x axis (non-positive x are left out)
  bool log_y = false;  // logarithmic y axis, for losses spanning decades (non-positive y left out)
  bool markers = false;  // a point at each (x, y), for short series
};

// Several series as lines in one plot, a legend outside on the right.
void line_plot(const fs::path& png, const std::vector<Series>& series, const Labels& labels,
               const LinePlotOptions& options = {});

// ---- histogram: the delta % histogram -----------------------------------------------------------

// A vertical dashed line with a legend entry, e.g. the mean or zero.
struct VerticalMark {
  double x = 0;
  std::string label;
};

struct HistogramOptions {
  Canvas canvas;
  bool log_y = false;               // logarithmic count axis (empty bins are left out)
  uint32_t rgb = kBlue;             // fill colour of the bars
  std::vector<VerticalMark> marks;  // drawn over the bars
};

// Bars of height counts[i] spanning [edges[i], edges[i+1]); edges has counts.size() + 1
// increasing values.
void histogram_plot(const fs::path& png, const std::vector<double>& counts,
                    const std::vector<double>& edges, const Labels& labels,
                    const HistogramOptions& options = {});

// ---- scatter coloured by class: the latent space coloured by digit -----------------------------

// One panel of 2-D points, each with an integer class in [0, 9] (the digit).
struct ClassPoints {
  std::string title;         // panel title, e.g. "encoder means (MT)"
  std::vector<double> x;     // (n,)
  std::vector<double> y;     // (n,)
  std::vector<int> classes;  // (n,) values in [0, 9]
};

// The closed interval [lo, hi] of an axis.
struct AxisRange {
  double lo = 0;
  double hi = 0;
  bool contains(double v) const { return v >= lo && v <= hi; }
};

// An axis range for the bulk of `values`, so that a few far points (an optimum at 50 when the rest
// lie within 4) do not squash every other point into a corner. The bulk runs from the `tail` to the
// 1 - `tail` quantile of the finite values (linearly interpolated); a value further than `fence`
// times the bulk's span beyond it is an outlier. The range covers every other value, padded by
// `pad` of their span on each side. Without outliers it is the padded range of all the values
// (with tail 0 there never are any): an ordinary spread is never cut, as a range between the
// quantiles alone would cut its last points. A zero span counts as max(1, |value|) for the fence
// and the padding. NaN and infinities are ignored. Throws std::invalid_argument if no value is
// finite or a parameter is out of range (tail in [0, 0.5), fence and pad >= 0).
AxisRange bulk_range(const std::vector<double>& values, double tail = 0.005, double fence = 0.5,
                     double pad = 0.04);

struct ScatterOptions {
  // width 0: about 600 px per column of panels and a legend column (at least 900 px);
  // height 0: about 560 px per row of panels (at least 650 px).
  Canvas canvas;
  double point_size = 0.5;  // gnuplot point size (1 is about 6 px)
  double opacity = 0.6;     // of each point, in (0, 1]: dense clusters stay readable
  bool same_axes = true;    // every panel gets the same x and y ranges, to compare them
  // The axes show the bulk_range(values, bulk_tail) of the x and of the y coordinates (of all
  // panels together when same_axes). A point outside is drawn on the border as an open triangle
  // in its class colour, and its panel's title says how many are "off the scale". 0: the axes
  // cover every point.
  double bulk_tail = 0.005;
  std::vector<std::string> class_names;  // legend text per class; empty: "0" ... "9"
};

// One panel per ClassPoints, in a grid of at most 3 columns filled row by row (2 panels: 1 row of
// 2; 4: 2 rows of 2; 5: 2 rows of 3, the last cell empty), and one legend of the classes on the
// right. labels.title is the overall title; x_label and y_label label every panel. Points with a
// non-finite coordinate are left out.
void scatter_by_class(const fs::path& png, const std::vector<ClassPoints>& panels,
                      const Labels& labels, const ScatterOptions& options = {});

// ---- bar chart: per-digit mean delta per method, per-digit success rate ------------------------

// One value per category; several series are drawn as groups of bars.
struct BarSeries {
  std::string name;            // legend entry (shown when there are several series)
  std::vector<double> values;  // (categories,)
  std::vector<double> errors;  // (categories,) half-length of the error bar, or empty: none
};

struct BarChartOptions {
  Canvas canvas;
};

// Grouped bars: for each category, one bar per series, coloured by series.
void bar_chart(const fs::path& png, const std::vector<std::string>& categories,
               const std::vector<BarSeries>& series, const Labels& labels,
               const BarChartOptions& options = {});

// ---- quiver: vectors from MT to MN in the latent plane -----------------------------------------

struct Arrow {
  double x = 0, y = 0;    // tail
  double dx = 0, dy = 0;  // the tail plus (dx, dy) is the head
  uint32_t rgb = kBlue;   // 0xRRGGBB
  double opacity = 1.0;   // in [0, 1]: 0 is invisible
};

struct LegendEntry {
  std::string name;
  uint32_t rgb = kBlue;
};

struct QuiverOptions {
  Canvas canvas;
  bool equal_axes = true;           // one unit is as long on both axes, so directions are true
  bool mark_tails = false;          // a small dot at each tail
  std::vector<LegendEntry> legend;  // what the colours mean, e.g. {"MN better", kBlue}
};

// Arrows from p_i by v_i, each with its own colour and opacity.
void quiver_plot(const fs::path& png, const std::vector<Arrow>& arrows, const Labels& labels,
                 const QuiverOptions& options = {});

}  // namespace preimage::report
