#include "report/figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace preimage::report {

const uint32_t kPalette[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                               0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

namespace {

// Scatter panels: a grid of cells, each a panel with its title, tick labels and axis labels.
constexpr int kMaxScatterColumns = 3;     // more panels start a new row: readable at page width
constexpr int kScatterCellWidth = 600;    // pixels per column of panels, by default
constexpr int kScatterCellHeight = 560;   // pixels per row of panels, by default
constexpr int kScatterLegendWidth = 170;  // pixels of the class legend's column on the right
constexpr int kScatterMinWidth = 900;     // pixels: one panel is as wide as the other figures
constexpr int kScatterMinHeight = 650;    // pixels

// gnuplot's colour literal; alpha in [0, 1] is opacity (gnuplot stores transparency in the top
// byte).
std::string colour(uint32_t rgb, double opacity = 1.0) {
  const auto transparency =
      static_cast<uint32_t>(std::lround((1.0 - std::clamp(opacity, 0.0, 1.0)) * 255.0));
  if (transparency == 0) return fmt::format("'#{:06x}'", rgb & 0xffffff);
  return fmt::format("'#{:02x}{:06x}'", transparency, rgb & 0xffffff);
}

// Title (two points larger than the labels), axis labels and a light grid: what every figure
// starts with.
std::string common_preamble(const Labels& labels, const Canvas& canvas) {
  std::string s;
  if (!labels.title.empty())
    s += fmt::format("set title {} font ',{}'\n", gnuplot_string(labels.title),
                     canvas.font_points + 2);
  if (!labels.x_label.empty()) s += fmt::format("set xlabel {}\n", gnuplot_string(labels.x_label));
  if (!labels.y_label.empty()) s += fmt::format("set ylabel {}\n", gnuplot_string(labels.y_label));
  s += "set grid back lt 1 lc rgb '#e4e4e4' lw 1\n";  // solid and faint: guides, not lines
  s += "set border 3 lc rgb '#444444'\n";
  s += "set tics nomirror\n";
  s += "set key noautotitle\n";
  return s;
}

void check_same_length(size_t a, size_t b, const std::string& what) {
  if (a != b) {
    throw std::invalid_argument(fmt::format("{}: lengths differ ({} and {})", what, a, b));
  }
}

// Keeps only what a log axis can show: non-positive values become NaN (a gap).
std::vector<double> for_axis(const std::vector<double>& values, bool log_axis) {
  if (!log_axis) return values;
  std::vector<double> out(values);
  for (double& v : out) {
    if (!(v > 0)) v = std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

void require_some_point(bool any, const fs::path& png) {
  if (!any) {
    throw std::invalid_argument(
        fmt::format("figure '{}': no finite point to plot (all values missing, or non-positive "
                    "on a log axis)",
                    png.string()));
  }
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  bool valid() const { return lo <= hi; }
  // "[lo:hi]" padded by `pad` of the span on each side, so points on the edge stay visible.
  std::string padded(double pad = 0.04) const {
    double span = hi - lo;
    if (span <= 0) span = std::max(1.0, std::abs(hi));
    return fmt::format("[{}:{}]", gnuplot_number(lo - pad * span), gnuplot_number(hi + pad * span));
  }
};

// Commands for a logarithmic `axis` ("x" or "y") spanning the finite positive values in [lo, hi]:
// a range just around the data (gnuplot would widen it to whole decades, squashing the curves)
// with tick marks at 1, 2 and 5 times powers of ten, or every integer multiple on a narrow range.
std::string log_axis(const std::string& axis, double lo, double hi) {
  std::string s = fmt::format("set logscale {0}\nset format {0} '%g'\n", axis);
  if (!(lo > 0) || !(hi >= lo)) return s;
  const double margin = std::pow(hi / lo, 0.04) * 1.02;  // a little room at both ends
  const double from = lo / margin, to = hi * margin;
  s += fmt::format("set {}range [{}:{}]\n", axis, gnuplot_number(from), gnuplot_number(to));
  auto tics_for = [&](const std::vector<int>& mantissas) {
    std::vector<double> tics;
    const int first = static_cast<int>(std::floor(std::log10(from)));
    const int last = static_cast<int>(std::ceil(std::log10(to)));
    for (int k = first; k <= last; ++k) {
      for (int m : mantissas) {
        const double v = m * std::pow(10.0, k);
        if (v >= from && v <= to) tics.push_back(v);
      }
    }
    return tics;
  };
  // Within about a decade, every integer multiple has room for its label; beyond, 1, 2 and 5 do.
  const std::vector<int> all = {1, 2, 3, 4, 5, 6, 7, 8, 9}, some = {1, 2, 5};
  std::vector<double> tics = tics_for(std::log10(to / from) < 1.3 ? all : some);
  if (tics.size() < 3) tics = tics_for(all);
  if (tics.size() >= 2) {  // otherwise gnuplot's own choice
    std::string list;
    for (double v : tics) list += (list.empty() ? "" : ", ") + gnuplot_number(v);
    s += fmt::format("set {}tics ({})\n", axis, list);
  }
  return s;
}

}  // namespace

void line_plot(const fs::path& png, const std::vector<Series>& series, const Labels& labels,
               const LinePlotOptions& options) {
  if (series.empty())
    throw std::invalid_argument(fmt::format("line_plot '{}': no series", png.string()));
  std::string script = common_preamble(labels, options.canvas);
  // Outside the plot, the legend never hides a curve.
  script += "set key outside right top vertical Left reverse samplen 3 spacing 1.2\n";
  std::string plot = "plot ";
  bool any = false;
  Range x_range, y_range;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    check_same_length(s.x.size(), s.y.size(), fmt::format("line_plot series '{}' x and y", s.name));
    const auto x = for_axis(s.x, options.log_x);
    const auto y = for_axis(s.y, options.log_y);
    bool has_point = false;
    for (size_t k = 0; k < x.size(); ++k) has_point |= std::isfinite(x[k]) && std::isfinite(y[k]);
    if (!has_point) continue;  // gnuplot would fail on an empty datablock; the legend skips it
    any = true;
    for (size_t k = 0; k < x.size(); ++k) {
      if (std::isfinite(x[k]) && std::isfinite(y[k])) {
        x_range.add(x[k]);
        y_range.add(y[k]);
      }
    }
    script += datablock(fmt::format("s{}", i), {x, y});
    // After ten colours, dashes tell the series apart.
    plot += fmt::format("{}$s{} using 1:2 with {} lw 2 lc rgb {} dt {} pt 7 ps {} title {}",
                        plot.size() > 5 ? ", " : "", i, options.markers ? "linespoints" : "lines",
                        colour(kPalette[i % 10]), 1 + i / 10, options.markers ? 1.5 : 0.6,
                        gnuplot_string(s.name));
  }
  require_some_point(any, png);
  if (options.log_x) script += log_axis("x", x_range.lo, x_range.hi);
  if (options.log_y) {
    script += log_axis("y", y_range.lo, y_range.hi);
  } else {
    script += "set offsets 0, 0, graph 0.04, graph 0.04\n";  // a curve never runs along the frame
  }
  script += plot + "\n";
  run_gnuplot(script, png, options.canvas);
}

void histogram_plot(const fs::path& png, const std::vector<double>& counts,
                    const std::vector<double>& edges, const Labels& labels,
                    const HistogramOptions& options) {
  if (counts.empty())
    throw std::invalid_argument(fmt::format("histogram '{}': no bins", png.string()));
  check_same_length(counts.size() + 1, edges.size(),
                    fmt::format("histogram '{}': counts + 1 and edges", png.string()));
  std::vector<double> centres, widths;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (!(edges[i + 1] > edges[i])) {
      throw std::invalid_argument(
          fmt::format("histogram '{}': edges must increase (edge {} is {}, edge {} is {})",
                      png.string(), i, edges[i], i + 1, edges[i + 1]));
    }
    centres.push_back(0.5 * (edges[i] + edges[i + 1]));
    widths.push_back(edges[i + 1] - edges[i]);
  }
  const auto heights = for_axis(counts, options.log_y);
  require_some_point(
      std::any_of(heights.begin(), heights.end(), [](double v) { return std::isfinite(v); }), png);

  std::string script = common_preamble(labels, options.canvas);
  script += fmt::format("set xrange [{}:{}]\n", gnuplot_number(edges.front()),
                        gnuplot_number(edges.back()));
  if (options.log_y) {
    script += "set logscale y\nset format y '%g'\nset yrange [0.8:*]\n";
  } else {
    script += "set yrange [0:*]\n";
  }
  script += "set style fill solid 0.75 border lc rgb '#333333'\n";
  script += "set key inside right top vertical Left reverse box opaque samplen 3 spacing 1.2\n";
  script += datablock("h", {centres, heights, widths});
  std::string plot =
      fmt::format("plot $h using 1:2:3 with boxes lc rgb {} notitle", colour(options.rgb));
  // Dark, distinct colours and dash patterns that stand out against the bars.
  static const uint32_t kMarkColours[] = {0xd62728, 0x222222, 0xff7f0e, 0x2ca02c};
  static const int kMarkDashes[] = {2, 4, 5, 3};
  for (size_t i = 0; i < options.marks.size(); ++i) {
    const VerticalMark& mark = options.marks[i];
    const std::string style =
        fmt::format("lw 2.5 dt {} lc rgb {}", kMarkDashes[i % 4], colour(kMarkColours[i % 4]));
    script += fmt::format("set arrow {} from {}, graph 0 to {}, graph 1 nohead {} front\n", i + 1,
                          gnuplot_number(mark.x), gnuplot_number(mark.x), style);
    if (!mark.label.empty()) {
      plot += fmt::format(", keyentry with lines {} title {}", style, gnuplot_string(mark.label));
    }
  }
  if (options.marks.empty()) script += "unset key\n";
  script += plot + "\n";
  run_gnuplot(script, png, options.canvas);
}

AxisRange bulk_range(const std::vector<double>& values, double tail, double fence, double pad) {
  if (!(tail >= 0 && tail < 0.5) || !(fence >= 0) || !(pad >= 0)) {
    throw std::invalid_argument(
        fmt::format("bulk_range: tail {} must be in [0, 0.5), fence {} and pad {} must be >= 0",
                    tail, fence, pad));
  }
  std::vector<double> sorted;
  sorted.reserve(values.size());
  for (double v : values) {
    if (std::isfinite(v)) sorted.push_back(v);
  }
  if (sorted.empty()) {
    throw std::invalid_argument(
        fmt::format("bulk_range: none of the {} values is finite", values.size()));
  }
  std::sort(sorted.begin(), sorted.end());
  // Quantile p by linear interpolation between the order statistics (numpy's default).
  auto quantile = [&](double p) {
    const double at = p * static_cast<double>(sorted.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(at));
    const size_t above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (at - static_cast<double>(below)) * (sorted[above] - sorted[below]);
  };
  // A zero span would make a fence or a padding of zero width.
  auto unit = [](double span, double value) {
    return span > 0 ? span : std::max(1.0, std::abs(value));
  };
  const double bulk_lo = quantile(tail), bulk_hi = quantile(1.0 - tail);
  const double reach = fence * unit(bulk_hi - bulk_lo, bulk_hi);
  // The first and last values within the fences: the bulk's own values always are.
  const auto first = std::lower_bound(sorted.begin(), sorted.end(), bulk_lo - reach);
  const auto last = std::upper_bound(sorted.begin(), sorted.end(), bulk_hi + reach) - 1;
  const double margin = pad * unit(*last - *first, *last);
  return {*first - margin, *last + margin};
}

namespace {

// "title - 2 points off the scale"; the title alone when none is.
std::string with_off_scale_count(const std::string& title, size_t off_scale) {
  if (off_scale == 0) return title;
  return fmt::format("{}{}{} point{} off the scale", title, title.empty() ? "" : " - ", off_scale,
                     off_scale == 1 ? "" : "s");
}

// Rows and columns for n panels: as few rows as at most kMaxScatterColumns allow, then as few
// columns as fill them (4 panels: 2 x 2 rather than 3 + 1).
std::pair<int, int> scatter_grid(int n) {
  const int rows = (n + kMaxScatterColumns - 1) / kMaxScatterColumns;
  return {rows, (n + rows - 1) / rows};
}

}  // namespace

void scatter_by_class(const fs::path& png, const std::vector<ClassPoints>& panels,
                      const Labels& labels, const ScatterOptions& options) {
  if (panels.empty())
    throw std::invalid_argument(fmt::format("scatter '{}': no panels", png.string()));
  const int num_classes = 10;
  std::vector<bool> class_present(num_classes, false);
  std::vector<double> all_x, all_y;  // the finite points of every panel
  for (const ClassPoints& panel : panels) {
    check_same_length(panel.x.size(), panel.y.size(),
                      fmt::format("scatter panel '{}' x and y", panel.title));
    check_same_length(panel.x.size(), panel.classes.size(),
                      fmt::format("scatter panel '{}' points and classes", panel.title));
    for (size_t i = 0; i < panel.x.size(); ++i) {
      const int c = panel.classes[i];
      if (c < 0 || c >= num_classes) {
        throw std::invalid_argument(fmt::format(
            "scatter panel '{}': point {} has class {}, outside [0, 9]", panel.title, i, c));
      }
      class_present[c] = true;
      if (std::isfinite(panel.x[i]) && std::isfinite(panel.y[i])) {
        all_x.push_back(panel.x[i]);
        all_y.push_back(panel.y[i]);
      }
    }
  }
  require_some_point(!all_x.empty(), png);
  const AxisRange shared_x = bulk_range(all_x, options.bulk_tail);
  const AxisRange shared_y = bulk_range(all_y, options.bulk_tail);

  const int n = static_cast<int>(panels.size());
  const auto [rows, cols] = scatter_grid(n);
  Canvas canvas = options.canvas;
  if (canvas.width <= 0)
    canvas.width = std::max(kScatterMinWidth, kScatterCellWidth * cols + kScatterLegendWidth);
  if (canvas.height <= 0) canvas.height = std::max(kScatterMinHeight, kScatterCellHeight * rows);

  // Explicit margins (screen fractions) give every panel the same size, with one legend column
  // on the right shared by all panels. Within a cell: room for the tick labels and y label on the
  // left, the panel title above, the tick labels and x label below.
  const double W = canvas.width, H = canvas.height;
  const double title_px = labels.title.empty() ? 10 : 45;
  const double cell_w = (W - kScatterLegendWidth) / cols, cell_h = (H - title_px) / rows;
  const double left_px = 75, right_px = 25, top_px = 45, bottom_px = 62;

  std::string script = common_preamble({"", labels.x_label, labels.y_label}, canvas);
  script += "set multiplot";
  if (!labels.title.empty()) {
    script +=
        fmt::format(" title {} font ',{}'", gnuplot_string(labels.title), canvas.font_points + 2);
  }
  script += "\n";
  bool any_off_scale = false;
  for (int p = 0; p < n; ++p) {
    const ClassPoints& panel = panels[p];
    const int row = p / cols, col = p % cols;
    const double cell_top = H - title_px - row * cell_h;  // pixels from the bottom
    script += fmt::format("set lmargin at screen {:.4f}\nset rmargin at screen {:.4f}\n",
                          (col * cell_w + left_px) / W, ((col + 1) * cell_w - right_px) / W);
    script += fmt::format("set tmargin at screen {:.4f}\nset bmargin at screen {:.4f}\n",
                          (cell_top - top_px) / H, (cell_top - cell_h + bottom_px) / H);

    AxisRange x_range = shared_x, y_range = shared_y;
    if (!options.same_axes) {
      std::vector<double> xs, ys;
      for (size_t i = 0; i < panel.x.size(); ++i) {
        if (std::isfinite(panel.x[i]) && std::isfinite(panel.y[i])) {
          xs.push_back(panel.x[i]);
          ys.push_back(panel.y[i]);
        }
      }
      if (!xs.empty()) {  // an empty panel keeps the shared ranges
        x_range = bulk_range(xs, options.bulk_tail);
        y_range = bulk_range(ys, options.bulk_tail);
      }
    }
    script += fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", gnuplot_number(x_range.lo),
                          gnuplot_number(x_range.hi), gnuplot_number(y_range.lo),
                          gnuplot_number(y_range.hi));

    // Points within the ranges, by class; the others clamped onto the border, with their colour.
    std::vector<std::vector<double>> xs(num_classes), ys(num_classes);
    std::vector<double> off_x, off_y, off_rgb;
    for (size_t i = 0; i < panel.x.size(); ++i) {
      const double x = panel.x[i], y = panel.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const int c = panel.classes[i];
      if (x_range.contains(x) && y_range.contains(y)) {
        xs[c].push_back(x);
        ys[c].push_back(y);
      } else {
        off_x.push_back(std::clamp(x, x_range.lo, x_range.hi));
        off_y.push_back(std::clamp(y, y_range.lo, y_range.hi));
        off_rgb.push_back(static_cast<double>(kPalette[c]));
      }
    }
    any_off_scale |= !off_x.empty();
    script += fmt::format("set title {}\n",
                          gnuplot_string(with_off_scale_count(panel.title, off_x.size())));

    const bool with_legend = p == n - 1;
    if (with_legend) {
      script += fmt::format(
          "set key at screen {:.4f}, {:.4f} right top vertical Left reverse "
          "title 'class' box samplen 1 spacing 1.1\n",
          1.0 - 10.0 / W, (H - title_px - top_px) / H);
    } else {
      script += "unset key\n";
    }
    std::string plot = "plot ";
    bool first = true;
    for (int c = 0; c < num_classes; ++c) {
      if (xs[c].empty()) continue;
      const std::string name = fmt::format("p{}c{}", p, c);
      script += datablock(name, {xs[c], ys[c]});
      plot += fmt::format("{}${} using 1:2 with points pt 7 ps {} lc rgb {} notitle",
                          first ? "" : ", ", name, gnuplot_number(options.point_size),
                          colour(kPalette[c], options.opacity));
      first = false;
    }
    if (!off_x.empty()) {
      // Opaque and larger than the points: a reader must see that they are there.
      const std::string name = fmt::format("p{}off", p);
      script += datablock(name, {off_x, off_y, off_rgb});
      plot += fmt::format("{}${} using 1:2:3 with points pt 8 ps 1.8 lw 2 lc rgb variable notitle",
                          first ? "" : ", ", name);
      first = false;
    }
    if (with_legend) {
      // Opaque, larger legend symbols than the translucent points they stand for.
      for (int c = 0; c < num_classes; ++c) {
        if (!class_present[c]) continue;
        const std::string name = c < static_cast<int>(options.class_names.size())
                                     ? options.class_names[c]
                                     : std::to_string(c);
        plot += fmt::format("{}keyentry with points pt 7 ps 1.5 lc rgb {} title {}",
                            first ? "" : ", ", colour(kPalette[c]), gnuplot_string(name));
        first = false;
      }
    }
    if (with_legend && any_off_scale) {
      plot += fmt::format(
          "{}keyentry with points pt 8 ps 1.8 lw 2 lc rgb '#444444' title "
          "'off the scale'",
          first ? "" : ", ");
      first = false;
    }
    if (first) {
      // An empty panel: draw its frame so the layout stays, with nothing in it.
      plot += "NaN notitle";
    }
    script += plot + "\n";
  }
  script += "unset multiplot\n";
  run_gnuplot(script, png, canvas);
}

void bar_chart(const fs::path& png, const std::vector<std::string>& categories,
               const std::vector<BarSeries>& series, const Labels& labels,
               const BarChartOptions& options) {
  if (categories.empty() || series.empty()) {
    throw std::invalid_argument(
        fmt::format("bar chart '{}': no categories or no series", png.string()));
  }
  bool with_errors = false;
  bool all_non_negative = true, all_non_positive = true;  // the bars start at 0: keep it in range
  for (const BarSeries& s : series) {
    check_same_length(categories.size(), s.values.size(),
                      fmt::format("bar chart series '{}' categories and values", s.name));
    if (!s.errors.empty()) {
      check_same_length(s.values.size(), s.errors.size(),
                        fmt::format("bar chart series '{}' values and errors", s.name));
      with_errors = true;
    }
    for (size_t i = 0; i < s.values.size(); ++i) {
      const double err = s.errors.empty() ? 0.0 : s.errors[i];
      if (std::isfinite(s.values[i]) && s.values[i] - (std::isfinite(err) ? err : 0.0) < 0) {
        all_non_negative = false;
      }
      if (std::isfinite(s.values[i]) && s.values[i] + (std::isfinite(err) ? err : 0.0) > 0) {
        all_non_positive = false;
      }
    }
  }
  // One row per category: "name" v1 [e1] v2 [e2] ...
  std::string data = "$bars << EOD\n";
  for (size_t i = 0; i < categories.size(); ++i) {
    data += datablock_string(categories[i]);
    for (const BarSeries& s : series) {
      data += ' ' + gnuplot_number(s.values[i]);
      if (with_errors) data += ' ' + gnuplot_number(s.errors.empty() ? 0.0 : s.errors[i]);
    }
    data += '\n';
  }
  data += "EOD\n";

  std::string script = common_preamble(labels, options.canvas);
  script += "set grid noxtics ytics\n";
  script += "set style data histograms\n";
  script += with_errors ? "set style histogram errorbars gap 1 lw 1.5\n"
                        : "set style histogram clustered gap 1\n";
  script += "set style fill solid 0.85 border lc rgb '#333333'\n";
  script += "set boxwidth 0.9\n";
  script += "set xtics scale 0\n";
  if (categories.size() > 12) script += "set xtics rotate by -45\n";
  if (all_non_negative)
    script += "set yrange [0:*]\n";
  else if (all_non_positive)
    script += "set yrange [*:0]\n";
  else
    script += "set xzeroaxis lt -1\n";
  const bool legend = series.size() > 1;
  script += legend ? "set key outside right top vertical Left reverse samplen 2\n" : "unset key\n";
  script += data;
  std::string plot = "plot ";
  const size_t stride = with_errors ? 2 : 1;
  for (size_t k = 0; k < series.size(); ++k) {
    const size_t col = 2 + k * stride;
    const std::string using_clause =
        with_errors ? fmt::format("{}:{}", col, col + 1) : fmt::format("{}", col);
    plot += fmt::format("{}$bars using {}{} lc rgb {} title {}", k == 0 ? "" : ", ", using_clause,
                        k == 0 ? ":xtic(1)" : "", colour(kPalette[k % 10]),
                        gnuplot_string(series[k].name));
  }
  script += plot + "\n";
  run_gnuplot(script, png, options.canvas);
}

void quiver_plot(const fs::path& png, const std::vector<Arrow>& arrows, const Labels& labels,
                 const QuiverOptions& options) {
  std::vector<double> x, y, dx, dy, argb;
  Range x_range, y_range;
  for (const Arrow& a : arrows) {
    if (!(std::isfinite(a.x) && std::isfinite(a.y) && std::isfinite(a.dx) && std::isfinite(a.dy)))
      continue;
    x.push_back(a.x);
    y.push_back(a.y);
    dx.push_back(a.dx);
    dy.push_back(a.dy);
    // gnuplot's `rgb variable` reads 0xAARRGGBB with AA the transparency.
    const auto transparency =
        static_cast<uint32_t>(std::lround((1.0 - std::clamp(a.opacity, 0.0, 1.0)) * 255.0));
    argb.push_back(static_cast<double>((transparency << 24) | (a.rgb & 0xffffff)));
    x_range.add(a.x);
    x_range.add(a.x + a.dx);
    y_range.add(a.y);
    y_range.add(a.y + a.dy);
  }
  require_some_point(!x.empty(), png);

  std::string script = common_preamble(labels, options.canvas);
  if (options.equal_axes) script += "set size ratio -1\n";
  script += fmt::format("set xrange {}\nset yrange {}\n", x_range.padded(), y_range.padded());
  script += "set key outside right top vertical Left reverse samplen 2 spacing 1.2\n";
  script += datablock("q", {x, y, dx, dy, argb});
  std::string plot =
      "plot $q using 1:2:3:4:5 with vectors head filled size screen 0.010,20 lw 1.5 lc rgb "
      "variable notitle";
  if (options.mark_tails)
    plot += ", $q using 1:2:5 with points pt 7 ps 0.35 lc rgb variable notitle";
  for (const LegendEntry& entry : options.legend) {
    plot += fmt::format(", keyentry with vectors head filled lw 2 lc rgb {} title {}",
                        colour(entry.rgb), gnuplot_string(entry.name));
  }
  if (options.legend.empty()) script += "unset key\n";
  script += plot + "\n";
  run_gnuplot(script, png, options.canvas);
}

}  // namespace preimage::report
