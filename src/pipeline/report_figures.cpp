// The report's figures drawn from the run's arrays: loss curves (thesis 3.3.1), the latent
// spaces and the decoder's manifold (figure 6), the deltas (3.3.2, annex F) and the vector field
// (figure 14).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/tables.h"
#include "data/tensor_io.h"
#include "pipeline/report_context.h"
#include "report/figures.h"
#include "report/image_grid.h"
#include "stats/histogram.h"

namespace preimage::pipeline::report_sections {

void loss_curve_section(ReportContext& c) {
  c.doc.heading("Loss curves (thesis 3.3.1)");
  // image position -> (method -> its curve)
  std::map<int64_t, std::vector<report::Series>> by_image;
  std::string y_label;
  for (const auto& method : c.data.methods) {
    const fs::path file = c.run.path() / "curves" / (method + ".npy");
    const auto images = c.method(method).curve_images;
    if (images.empty() || !fs::exists(file)) continue;
    auto curves = data::read_npy_tensor(file).to(torch::kFloat64);  // (K, T+1)
    if (curves.dim() != 2 || curves.size(0) != static_cast<int64_t>(images.size())) {
      spdlog::warn("{} has shape {} for {} curve images: left out", file.string(),
                   shape_str(curves), images.size());
      continue;
    }
    if (y_label.empty()) y_label = loss_label(c.method(method).settings);
    for (size_t k = 0; k < images.size(); ++k) {
      report::Series s{method, {}, to_doubles(curves[k])};
      // NaN after the image stopped: trim, so that the line ends where the method stopped.
      while (!s.y.empty() && !std::isfinite(s.y.back())) s.y.pop_back();
      for (size_t t = 0; t < s.y.size(); ++t) s.x.push_back(static_cast<double>(t));
      if (!s.y.empty()) by_image[images[k]].push_back(std::move(s));
    }
  }
  if (by_image.empty()) {
    c.note("no loss curve was recorded (invert with --curves POSITIONS to record some).");
    return;
  }
  int shown = 0;
  constexpr int kMaxCurveFigures = 6;
  for (auto& [image, series] : by_image) {
    if (image < 0 || image >= c.data.size()) continue;
    if (++shown > kMaxCurveFigures) break;
    size_t longest = 0;
    for (const auto& s : series) longest = std::max(longest, s.x.size());
    report::LinePlotOptions options;
    options.markers = longest <= 40;
    const fs::path png = c.figures / fmt::format("loss_curve_{}.png", image);
    report::line_plot(png, series,
                      {fmt::format("Loss of image {} during the inversion", c.image_name(image)),
                       "iteration", y_label},
                      options);
    const double first = series.front().y.front(), last = series.front().y.back();
    c.figure(png, fmt::format("Loss of image {} (digit {}) along the iterations of {}: from {:.3f} "
                            "to {:.3f} ({:+.2f} %) with {}.",
                            c.data.source_index(image), c.data.label(image),
                            series.size() > 1 ? "each method" : series.front().name, first, last,
                            (last - first) / first * 100, series.front().name));
  }
  if (static_cast<int>(by_image.size()) > kMaxCurveFigures)
    c.doc.paragraph(fmt::format("{} more images have recorded curves (curves/*.npy); the first {} "
                               "are shown.",
                               by_image.size() - kMaxCurveFigures, kMaxCurveFigures));
}

// ---- the latent space (figure 6) and the decoder's manifold ---------------------------------

void latent_space_section(ReportContext& c) {
  c.doc.heading("Latent spaces (thesis figure 6)");
  const int64_t n = c.data.size(), L = c.data.latent_dim();
  if (L < 2) {
    c.note(fmt::format("the latent scatter and the manifold need L >= 2 (this model has L = {}).",
                     L));
    return;
  }
  const int64_t stride = std::max<int64_t>(1, (n + c.step.max_points - 1) / c.step.max_points);
  std::vector<int> classes;
  bool labelled = true;
  for (int64_t i = 0; i < n; i += stride) {
    const int digit = c.data.label(i);
    labelled &= digit >= 0 && digit <= 9;
    classes.push_back(digit);
  }
  if (!labelled) std::fill(classes.begin(), classes.end(), 0);
  auto panel = [&](const std::string& title, const torch::Tensor& y) {
    report::ClassPoints p;
    p.title = title;
    auto sub = y.slice(0, 0, n, stride);
    p.x = to_doubles(sub.select(1, 0));
    p.y = to_doubles(sub.select(1, 1));
    p.classes = classes;
    return p;
  };
  std::vector<report::ClassPoints> panels;
  if (c.data.has_mt()) panels.push_back(panel("encoder means (MT)", c.data.mt));
  for (const auto& m : c.data.methods) panels.push_back(panel("MN (" + m + ")", c.data.mn[m]));
  for (const auto& [name, what] : c.data.extra_names)
    panels.push_back(panel(what + " (" + name + ")", c.data.extra.at(name)));
  report::ScatterOptions options;
  options.point_size = n / stride > 10000 ? 0.3 : 0.5;
  if (!labelled) options.class_names = {"images (no labels)"};
  const std::string axes = L == 2 ? "" : " (first two of L coordinates)";
  const fs::path png = c.figures / "latent_space.png";
  report::scatter_by_class(png, panels,
                           {"Latent points coloured by digit" + axes, "y_1", "y_2"}, options);
  c.figure(png, fmt::format("The latent points of {} images{}, coloured by their digit: {}the "
                          "inversion's solutions{}.",
                          (n + stride - 1) / stride,
                          stride > 1 ? fmt::format(" (every {}th of {})", stride, n) : "",
                          c.data.has_mt() ? "the encoder's means (MT) beside " : "",
                          c.data.extra.empty() ? "" : " and the bonus models'"));

  if (L != 2) {
    c.note(fmt::format("the decoder's manifold is drawn for L = 2 only (this model has L = {}).",
                     L));
    return;
  }
  const int64_t k = c.step.manifold_points;
  const double r = c.step.manifold_radius;
  auto axis = torch::linspace(-r, r, k, torch::kFloat64);
  // Row 0 is the top: the largest second coordinate first, so "up" is up.
  auto y2 = axis.flip(0).unsqueeze(1).expand({k, k});
  auto y1 = axis.unsqueeze(0).expand({k, k});
  auto grid = torch::stack({y1.reshape(-1), y2.reshape(-1)}, 1);  // (k*k, 2)
  const fs::path manifold = c.figures / "manifold.png";
  report::write_manifold(manifold, to_floats(c.data.decode(grid)), static_cast<int>(k),
                         static_cast<int>(k), static_cast<int>(c.data.height),
                         static_cast<int>(c.data.width), /*scale=*/1);
  c.figure(manifold,
         fmt::format("The decoder's manifold: sigmoid(D(y)) on a {} x {} grid of the latent plane "
                     "[-{:g}, {:g}]², y_1 from left to right, y_2 from bottom to top.",
                     k, k, r, r),
         /*pixelated=*/true);
}

// ---- deltas: histogram and per digit -------------------------------------------------------

void delta_section(ReportContext& c) {
  c.doc.heading("Deltas (thesis 3.3.2, annex F)");
  if (c.analysis.is_object()) analysis::delta_tables(c.doc, c.analysis);
  for (const auto& m : c.data.methods) {
    const auto delta = to_doubles(c.run.read_method_array(m, "delta"));
    std::vector<double> finite;
    for (double v : delta)
      if (std::isfinite(v)) finite.push_back(v);
    if (finite.empty()) {
      c.note(fmt::format("the delta histogram of {}: no finite delta.", m));
      continue;
    }
    const auto h = stats::histogram(finite, static_cast<size_t>(c.step.histogram_bins));
    double mean = 0;
    for (double v : finite) mean += v;
    mean /= static_cast<double>(finite.size());
    report::HistogramOptions options;
    options.marks.push_back({mean, fmt::format("mean {:.2f} %", mean)});
    if (h.edges.front() < 0 && h.edges.back() > 0) options.marks.push_back({0.0, "0 (no change)"});
    // A long tail of large improvements (global methods) would flatten the bulk: log counts.
    const double spread = h.edges.back() - h.edges.front();
    int64_t biggest = *std::max_element(h.counts.begin(), h.counts.end());
    options.log_y = biggest > 50 * static_cast<int64_t>(finite.size()) / c.step.histogram_bins &&
                    spread > 20;
    const fs::path png = c.figures / fmt::format("delta_histogram_{}.png", m);
    report::histogram_plot(png, std::vector<double>(h.counts.begin(), h.counts.end()), h.edges,
                           {fmt::format("Histogram of deltas ({}, {} images)", m, finite.size()),
                            "delta = (final - initial) / initial x 100  [%]",
                            options.log_y ? "images (log scale)" : "images"},
                           options);
    c.figure(png, fmt::format("Distribution of the per-image delta of {} ({} bins); negative is an "
                            "improvement over the encoder's loss.",
                            m, c.step.histogram_bins));
  }

  // Per digit: mean delta +- standard error, one bar per method.
  std::vector<std::string> digits;
  for (int d = 0; d < 10; ++d) digits.push_back(std::to_string(d));
  std::vector<report::BarSeries> series;
  const auto labels = c.data.labels;
  for (const auto& m : c.data.methods) {
    auto delta = c.run.read_method_array(m, "delta").to(torch::kFloat64);
    report::BarSeries s{m, {}, {}};
    for (int d = 0; d < 10; ++d) {
      auto v = delta.masked_select(labels == d);
      const double k = static_cast<double>(v.numel());
      s.values.push_back(k > 0 ? v.mean().item<double>() : NAN);
      s.errors.push_back(k > 1 ? v.std().item<double>() / std::sqrt(k) : 0.0);
    }
    series.push_back(s);
  }
  if ((labels >= 0).logical_and(labels <= 9).any().item<bool>()) {
    const fs::path png = c.figures / "digit_delta.png";
    report::bar_chart(png, digits, series, {"Mean delta per digit", "digit", "mean delta  [%]"});
    c.figure(png, "Mean delta per digit, with the standard error of the mean as error bars.");
  } else {
    c.note("the per-digit mean delta: the run's images have no labels.");
  }
}


// ---- the vector field (figure 14) ----------------------------------------------------------

void vector_section(ReportContext& c) {
  c.doc.heading("Vector analysis (thesis 3.6.3, figure 14)");
  if (c.analysis.is_object()) analysis::vector_tables(c.doc, c.analysis);
  const int64_t n = c.data.size();
  if (!c.data.has_mt()) {
    c.note("the vector field: the model has no encoder, so no MT to move from.");
    return;
  }
  if (c.data.latent_dim() < 2) {
    c.note("the vector field needs L >= 2.");
    return;
  }
  auto u = c.data.mt.mean(0, /*keepdim=*/true) - c.data.mt;  // (N, L) towards the mean of MT
  for (const auto& m : c.data.methods) {
    auto v = c.data.mn.at(m) - c.data.mt;  // (N, L) the inversion's move
    auto dot = (u * v).sum(1);           // (N)
    auto abs_dot = dot.abs();
    // Opacity by |u.v|, scaled by its 95th percentile so that one outlier does not hide the
    // rest, with a floor so that every drawn arrow stays visible.
    const double scale =
        std::max(abs_dot.quantile(0.95).item<double>(), std::numeric_limits<double>::min());
    const int64_t stride = std::max<int64_t>(1, (n + c.step.max_arrows - 1) / c.step.max_arrows);
    std::vector<report::Arrow> arrows;
    for (int64_t i = 0; i < n; i += stride) {
      report::Arrow a;
      a.x = c.data.mt[i][0].item<double>();
      a.y = c.data.mt[i][1].item<double>();
      a.dx = v[i][0].item<double>();
      a.dy = v[i][1].item<double>();
      const double d = dot[i].item<double>();
      a.rgb = d > 0 ? report::kBlue : report::kRed;
      a.opacity = 0.15 + 0.85 * std::min(1.0, std::abs(d) / scale);
      arrows.push_back(a);
    }
    const double positive = (dot > 0).to(torch::kFloat64).mean().item<double>() * 100;
    const double mean_length = v.norm(2, 1).mean().item<double>();
    report::QuiverOptions options;
    options.legend = {{"u.v > 0 (towards the mean of MT)", report::kBlue},
                      {"u.v <= 0 (away from it)", report::kRed}};
    const fs::path png = c.figures / fmt::format("vector_field_{}.png", m);
    report::quiver_plot(png, arrows,
                        {fmt::format("v = MN - MT ({}), from each MT point", m), "y_1", "y_2"},
                        options);
    c.figure(png, fmt::format(
                    "Arrows from MT_i to MN_i ({}) for {} of {} images{}; blue where u.v > 0 with "
                    "u = mean(MT) - MT_i ({:.1f} % of all images), red otherwise; opacity grows "
                    "with |u.v| (full at its 95th percentile). Mean |v| = {:.3g}.",
                    m, arrows.size(), n,
                    stride > 1 ? fmt::format(" (every {}th)", stride) : "", positive,
                    mean_length));
  }
}


}  // namespace preimage::pipeline::report_sections
