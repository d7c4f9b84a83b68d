#include "pipeline/report_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "data/tensor_io.h"
#include "model/checkpoint.h"
#include "pipeline/report_analysis.h"
#include "pipeline/summary.h"
#include "report/document.h"
#include "report/figures.h"
#include "report/image_grid.h"
#include "report/subprocess.h"
#include "stats/histogram.h"
#include "util/atomic_file.h"
#include "util/csv.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kDefaultChosen = 6;  // chosen images when none are named
constexpr int kPanelScale = 3;         // 28 px digits drawn at 84 px: readable at 100% zoom
constexpr int64_t kDecodeChunk = 4096; // latents decoded at once (bounds memory)

std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous().view(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::string shape_str(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "(" + s + ")";
}

std::vector<float> to_floats(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous().view(-1);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// "+-" as STYLE.md asks: a mean over images with its standard error.
std::string mean_pm(const json& m, int digits = 4) {
  return fmt::format("{:.{}f} +- {:.{}f}", m.at("mean").get<double>(), digits,
                     m.at("stderr").get<double>(), digits);
}

std::string seconds_str(double s) {
  if (s >= 120) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.{}f} s", s, s < 10 ? 2 : 1);
}

// The objective a method minimised, as the figures' axis label.
std::string loss_label(const json& settings) {
  const std::string loss = settings.value("loss", "squared-error");
  std::string label = loss == "bernoulli" ? "Bernoulli NLL of z under sigmoid(D(y))"
                                          : "loss |z - sigmoid(D(y))|²";
  if (settings.value("prior_weight", 0.0) > 0)
    label += fmt::format(" + {:g}|y|²", settings["prior_weight"].get<double>());
  return label;
}

// Everything the figures read from the run, loaded once.
struct RunData {
  std::vector<std::string> methods;  // in run order; the first ranks images ("primary")
  torch::Tensor images;              // (N, P) the binarized targets
  torch::Tensor labels;              // (N) int64, -1 where unknown
  torch::Tensor indices;             // (N) int64 positions in the source file
  torch::Tensor mt;                  // (N, L) encoder means
  std::map<std::string, torch::Tensor> mn;  // (N, L) per method
  // The bonus models' spaces that `analyze` wrote (latents/MB.npy, latents/MA.npy): name, what.
  std::vector<std::pair<std::string, std::string>> extra_names;
  std::map<std::string, torch::Tensor> extra;  // (N, L) per name
  int64_t height = 28, width = 28;
  model::Vae vae{nullptr};

  int64_t size() const { return mt.size(0); }
  int64_t latent_dim() const { return mt.size(1); }
  const std::string& primary() const { return methods.front(); }
  int label(int64_t i) const { return static_cast<int>(labels[i].item<int64_t>()); }
  int64_t source_index(int64_t i) const { return indices[i].item<int64_t>(); }

  // sigmoid(D(latents)): grey levels in [0, 1], (B, P).
  torch::Tensor decode(const torch::Tensor& latents) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    for (int64_t b = 0; b < latents.size(0); b += kDecodeChunk) {
      auto chunk = latents.slice(0, b, std::min(b + kDecodeChunk, latents.size(0)));
      parts.push_back(torch::sigmoid(vae->decode(chunk.to(torch::kFloat32))));
    }
    return torch::cat(parts);
  }
};

RunData load_run(run::RunFolder& run) {
  RunData d;
  d.methods = run.methods();
  require(!d.methods.empty(),
          fmt::format("run '{}' records no inversion method: nothing to report",
                      run.path().string()),
          "run preimage invert " + run.path().string() + " (or preimage run) first");
  d.mt = run.read_latents("MT").to(torch::kFloat64);
  for (const auto& m : d.methods) {
    d.mn[m] = run.read_latents(m).to(torch::kFloat64);
    require(d.mn[m].sizes() == d.mt.sizes(),
            fmt::format("run '{}': latents/{}.npy has shape {} but latents/MT.npy has {}",
                        run.path().string(), m, shape_str(d.mn[m]),
                        shape_str(d.mt)),
            "invert the same images the run encoded");
  }
  auto ds = run.load_images();
  require(ds.size() == d.size(),
          fmt::format("run '{}' has {} images but {} encoder latents", run.path().string(),
                      ds.size(), d.size()),
          "encode the run again (preimage encode)");
  d.images = ds.images;
  d.labels = run.labels();
  d.indices = run.indices();
  d.height = ds.height;
  d.width = ds.width;
  d.vae = model::load_vae(run.model_path());
  d.vae->eval();
  // MB and MA, when `preimage analyze` fitted the bonus models.
  for (const auto& [name, what] : {std::pair<std::string, std::string>{"MB", "bonus model"},
                                   {"MA", "amortized inverse"}}) {
    if (!run.has_latents(name)) continue;
    auto y = run.read_latents(name).to(torch::kFloat64);
    if (y.sizes() != d.mt.sizes()) {
      spdlog::warn("latents/{}.npy has shape {}, MT {}: left out", name, shape_str(y),
                   shape_str(d.mt));
      continue;
    }
    d.extra_names.emplace_back(name, what);
    d.extra[name] = y;
  }
  return d;
}

class ReportBuilder {
 public:
  ReportBuilder(run::RunFolder& run, const ReportStep& step)
      : run_(run),
        step_(step),
        analysis_(ReportAnalysis::load(run.path())),
        data_(load_run(run)),
        doc_(fmt::format("Empirical preimage: {}", run.path().filename().string().empty()
                                                       ? run.path().string()
                                                       : run.path().filename().string())),
        figures_(run.path() / "figures") {}

  void build() {
    util::ensure_writable_dir(figures_);
    chosen_ = chosen_images();  // checked before any figure
    settings_section();
    results_section();
    loss_curve_section();
    latent_space_section();
    delta_section();
    panel_section();
    success_section();
    normality_section();
    bonus_section();
    vector_section();
    solver_comparison_section();
  }

  // The timings table comes last: it includes the report's own time, so the caller adds it.
  void timings_section(double report_seconds);
  const report::Document& document() const { return doc_; }
  ReportOutput& output() { return out_; }

 private:
  run::RunFolder& run_;
  const ReportStep& step_;
  ReportAnalysis analysis_;
  RunData data_;
  report::Document doc_;
  fs::path figures_;
  std::vector<int64_t> chosen_;  // the "chosen images" panel's
  ReportOutput out_;

  const json& manifest() const { return run_.manifest(); }
  // The manifest's record of method `m` (settings, seconds, curve_images); {} if absent.
  json method_entry(const std::string& m) const {
    const auto& mf = manifest();
    if (!mf.contains("methods") || !mf["methods"].contains(m)) return json::object();
    return mf["methods"][m];
  }
  json method_settings(const std::string& m) const {
    return method_entry(m).value("settings", json::object());
  }

  void figure(const fs::path& png, const std::string& caption, bool pixelated = false) {
    doc_.figure(png, caption, pixelated);
    out_.figures.push_back(png);
    spdlog::info("figure {}", png.filename().string());
  }
  // A figure or table the data does not allow: said in the report, never silently dropped.
  void note(const std::string& text) {
    doc_.paragraph("Not shown: " + text);
    out_.notes.push_back(text);
  }
  std::string image_name(int64_t i) const {
    const int label = data_.label(i);
    return label >= 0 ? fmt::format("#{} ({})", data_.source_index(i), label)
                      : fmt::format("#{}", data_.source_index(i));
  }

  void settings_section();
  void results_section();
  void loss_curve_section();
  void latent_space_section();
  void delta_section();
  void panel_section();
  void success_section();
  void normality_section();
  void bonus_section();
  void vector_section();
  void solver_comparison_section();

  std::vector<int64_t> chosen_images() const;
  void comparison_panels(const std::string& name, const std::string& what,
                         const std::vector<int64_t>& positions,
                         const std::function<std::string(int64_t)>& column_label);
};

// ---- settings and the summary tables -------------------------------------------------------

void ReportBuilder::settings_section() {
  doc_.heading("Settings");
  const auto& m = manifest();
  std::vector<std::pair<std::string, std::string>> entries;
  auto add = [&](const std::string& key, const json& value) {
    entries.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  };
  if (m.contains("images")) {
    const auto& im = m["images"];
    add("images", fmt::format("{}, positions {}:{} ({} images{})", im.value("name", "?"),
                              im["range"][0].get<int64_t>(), im["range"][1].get<int64_t>(),
                              im.value("count", int64_t{0}),
                              im.value("binarize", true) ? ", binarized at 0.5" : ""));
  }
  if (m.contains("model")) {
    const auto& mo = m["model"];
    if (mo.contains("architecture"))
      add("model", model::VaeConfig::from_json(mo["architecture"]).describe());
    if (mo.contains("train"))
      for (const auto& [k, v] : mo["train"].items()) add("train." + k, v);
    if (mo.contains("train_images")) add("train.images", mo["train_images"]);
    if (mo.contains("final_test_elbo"))
      add("test ELBO after training", fmt::format("{:.2f}", mo["final_test_elbo"].get<double>()));
  }
  for (const auto& method : data_.methods) {
    const json settings = method_settings(method);  // a copy: items() must not outlive it
    for (const auto& [k, v] : settings.items()) add(fmt::format("{}.{}", method, k), v);
  }
  if (m.contains("versions"))
    for (const auto& [k, v] : m["versions"].items())
      if (!(v.is_string() && v.get<std::string>().empty())) add("version." + k, v);
  doc_.settings(entries, "From manifest.json");
  if (m.contains("run_config") && m["run_config"].contains("out")) {
    doc_.paragraph("Produced by preimage run; the resolved configuration is in manifest.json.");
  }
}

void ReportBuilder::results_section() {
  doc_.heading("Results (thesis 3.3)");
  const json summary = summarize(run_);
  std::vector<std::vector<std::string>> rows;
  for (const auto& method : data_.methods) {
    const auto& s = summary["methods"][method];
    // Why images stopped, and how many left the latent box (issue 3's flags).
    auto reasons = run_.read_method_array(method, "stop_reason");
    std::map<int64_t, int64_t> counts;
    for (auto r : to_doubles(reasons)) counts[static_cast<int64_t>(r)]++;
    std::string stops;
    for (const auto& [r, c] : counts)
      stops += fmt::format("{}{} {}", stops.empty() ? "" : ", ",
                           solvers::stop_reason_name(static_cast<solvers::StopReason>(r)), c);
    int64_t left = 0;
    if (fs::exists(run_.path() / "losses" / (method + "_left_box.npy")))
      left = run_.read_method_array(method, "left_box").to(torch::kInt64).sum().item<int64_t>();
    rows.push_back({method, std::to_string(data_.size()), mean_pm(s["initial_loss"]),
                    mean_pm(s["final_loss"]), mean_pm(s["delta_pct"]) + " %",
                    fmt::format("{:.1f}", s["iterations"]["mean"].get<double>()), stops,
                    std::to_string(left)});
  }
  doc_.table({"method", "images", "mean initial loss", "mean final loss", "mean delta",
              "mean iterations", "stopped by", "left the box"},
             rows, "Losses over the run's images (mean +- standard error); delta = (final - initial) / initial x 100");

  if (analysis_.has_space_table()) {
    analysis_.space_table(doc_);
  } else {
    std::vector<std::vector<std::string>> spaces;
    auto vec = [](const json& v) {
      std::string s;
      for (const auto& x : v) s += fmt::format("{}{:.4f}", s.empty() ? "" : ", ", x.get<double>());
      return "[" + s + "]";
    };
    for (const auto& [name, sp] : summary["spaces"].items()) {
      std::string cov;
      for (const auto& row : sp["covariance"]) cov += (cov.empty() ? "" : ", ") + vec(row);
      spaces.push_back({name == "MT" ? "MT (encoder)" : "MN (" + name + ")", vec(sp["mean"]),
                        "[" + cov + "]"});
    }
    doc_.table({"latent space", "mean vector", "covariance matrix"}, spaces,
               "Annex E: mean vectors and covariance matrices");
  }
}

// ---- loss curves (thesis 3.3.1) ------------------------------------------------------------

void ReportBuilder::loss_curve_section() {
  doc_.heading("Loss curves (thesis 3.3.1)");
  // image position -> (method -> its curve)
  std::map<int64_t, std::vector<report::Series>> by_image;
  std::string y_label;
  for (const auto& method : data_.methods) {
    const fs::path file = run_.path() / "curves" / (method + ".npy");
    const auto images = method_entry(method).value("curve_images", std::vector<int64_t>{});
    if (images.empty() || !fs::exists(file)) continue;
    auto curves = data::read_npy_tensor(file).to(torch::kFloat64);  // (K, T+1)
    if (curves.dim() != 2 || curves.size(0) != static_cast<int64_t>(images.size())) {
      spdlog::warn("{} has shape {} for {} curve images: left out", file.string(),
                   shape_str(curves), images.size());
      continue;
    }
    if (y_label.empty()) y_label = loss_label(method_settings(method));
    for (size_t k = 0; k < images.size(); ++k) {
      report::Series s{method, {}, to_doubles(curves[k])};
      // NaN after the image stopped: trim, so that the line ends where the method stopped.
      while (!s.y.empty() && !std::isfinite(s.y.back())) s.y.pop_back();
      for (size_t t = 0; t < s.y.size(); ++t) s.x.push_back(static_cast<double>(t));
      if (!s.y.empty()) by_image[images[k]].push_back(std::move(s));
    }
  }
  if (by_image.empty()) {
    note("no loss curve was recorded (invert with --curves POSITIONS to record some).");
    return;
  }
  int shown = 0;
  constexpr int kMaxCurveFigures = 6;
  for (auto& [image, series] : by_image) {
    if (image < 0 || image >= data_.size()) continue;
    if (++shown > kMaxCurveFigures) break;
    size_t longest = 0;
    for (const auto& s : series) longest = std::max(longest, s.x.size());
    report::LinePlotOptions options;
    options.markers = longest <= 40;
    const fs::path png = figures_ / fmt::format("loss_curve_{}.png", image);
    report::line_plot(png, series,
                      {fmt::format("Loss of image {} during the inversion", image_name(image)),
                       "iteration", y_label},
                      options);
    const double first = series.front().y.front(), last = series.front().y.back();
    figure(png, fmt::format("Loss of image {} (digit {}) along the iterations of {}: from {:.3f} "
                            "to {:.3f} ({:+.2f} %) with {}.",
                            data_.source_index(image), data_.label(image),
                            series.size() > 1 ? "each method" : series.front().name, first, last,
                            (last - first) / first * 100, series.front().name));
  }
  if (static_cast<int>(by_image.size()) > kMaxCurveFigures)
    doc_.paragraph(fmt::format("{} more images have recorded curves (curves/*.npy); the first {} "
                               "are shown.",
                               by_image.size() - kMaxCurveFigures, kMaxCurveFigures));
}

// ---- the latent space (figure 6) and the decoder's manifold ---------------------------------

void ReportBuilder::latent_space_section() {
  doc_.heading("Latent spaces (thesis figure 6)");
  const int64_t n = data_.size(), L = data_.latent_dim();
  if (L < 2) {
    note(fmt::format("the latent scatter and the manifold need L >= 2 (this model has L = {}).",
                     L));
    return;
  }
  const int64_t stride = std::max<int64_t>(1, (n + step_.max_points - 1) / step_.max_points);
  std::vector<int> classes;
  bool labelled = true;
  for (int64_t i = 0; i < n; i += stride) {
    const int c = data_.label(i);
    labelled &= c >= 0 && c <= 9;
    classes.push_back(c);
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
  std::vector<report::ClassPoints> panels = {panel("encoder means (MT)", data_.mt)};
  for (const auto& m : data_.methods) panels.push_back(panel("MN (" + m + ")", data_.mn[m]));
  for (const auto& [name, what] : data_.extra_names)
    panels.push_back(panel(what + " (" + name + ")", data_.extra.at(name)));
  report::ScatterOptions options;
  options.point_size = n / stride > 10000 ? 0.3 : 0.5;
  if (!labelled) options.class_names = {"images (no labels)"};
  const std::string axes = L == 2 ? "" : " (first two of L coordinates)";
  const fs::path png = figures_ / "latent_space.png";
  report::scatter_by_class(png, panels,
                           {"Latent points coloured by digit" + axes, "y_1", "y_2"}, options);
  figure(png, fmt::format("The latent points of {} images{}, coloured by their digit: the "
                          "encoder's means (MT) beside the inversion's solutions{}.",
                          (n + stride - 1) / stride,
                          stride > 1 ? fmt::format(" (every {}th of {})", stride, n) : "",
                          data_.extra.empty() ? "" : " and the bonus models'"));

  if (L != 2) {
    note(fmt::format("the decoder's manifold is drawn for L = 2 only (this model has L = {}).",
                     L));
    return;
  }
  const int64_t k = step_.manifold_points;
  const double r = step_.manifold_radius;
  auto axis = torch::linspace(-r, r, k, torch::kFloat64);
  // Row 0 is the top: the largest second coordinate first, so "up" is up.
  auto y2 = axis.flip(0).unsqueeze(1).expand({k, k});
  auto y1 = axis.unsqueeze(0).expand({k, k});
  auto grid = torch::stack({y1.reshape(-1), y2.reshape(-1)}, 1);  // (k*k, 2)
  const fs::path manifold = figures_ / "manifold.png";
  report::write_manifold(manifold, to_floats(data_.decode(grid)), static_cast<int>(k),
                         static_cast<int>(k), static_cast<int>(data_.height),
                         static_cast<int>(data_.width), /*scale=*/1);
  figure(manifold,
         fmt::format("The decoder's manifold: sigmoid(D(y)) on a {} x {} grid of the latent plane "
                     "[-{:g}, {:g}]², y_1 from left to right, y_2 from bottom to top.",
                     k, k, r, r),
         /*pixelated=*/true);
}

// ---- deltas: histogram and per digit -------------------------------------------------------

void ReportBuilder::delta_section() {
  doc_.heading("Deltas (thesis 3.3.2, annex F)");
  analysis_.delta_table(doc_);
  for (const auto& m : data_.methods) {
    const auto delta = to_doubles(run_.read_method_array(m, "delta"));
    std::vector<double> finite;
    for (double v : delta)
      if (std::isfinite(v)) finite.push_back(v);
    if (finite.empty()) {
      note(fmt::format("the delta histogram of {}: no finite delta.", m));
      continue;
    }
    const auto h = stats::histogram(finite, static_cast<size_t>(step_.histogram_bins));
    double mean = 0;
    for (double v : finite) mean += v;
    mean /= static_cast<double>(finite.size());
    report::HistogramOptions options;
    options.marks.push_back({mean, fmt::format("mean {:.2f} %", mean)});
    if (h.edges.front() < 0 && h.edges.back() > 0) options.marks.push_back({0.0, "0 (no change)"});
    // A long tail of large improvements (global methods) would flatten the bulk: log counts.
    const double spread = h.edges.back() - h.edges.front();
    int64_t biggest = *std::max_element(h.counts.begin(), h.counts.end());
    options.log_y = biggest > 50 * static_cast<int64_t>(finite.size()) / step_.histogram_bins &&
                    spread > 20;
    const fs::path png = figures_ / fmt::format("delta_histogram_{}.png", m);
    report::histogram_plot(png, std::vector<double>(h.counts.begin(), h.counts.end()), h.edges,
                           {fmt::format("Histogram of deltas ({}, {} images)", m, finite.size()),
                            "delta = (final - initial) / initial x 100  [%]",
                            options.log_y ? "images (log scale)" : "images"},
                           options);
    figure(png, fmt::format("Distribution of the per-image delta of {} ({} bins); negative is an "
                            "improvement over the encoder's loss.",
                            m, step_.histogram_bins));
  }

  // Per digit: mean delta +- standard error, one bar per method.
  std::vector<std::string> digits;
  for (int c = 0; c < 10; ++c) digits.push_back(std::to_string(c));
  std::vector<report::BarSeries> series;
  const auto labels = data_.labels;
  for (const auto& m : data_.methods) {
    auto delta = run_.read_method_array(m, "delta").to(torch::kFloat64);
    report::BarSeries s{m, {}, {}};
    for (int c = 0; c < 10; ++c) {
      auto v = delta.masked_select(labels == c);
      const double k = static_cast<double>(v.numel());
      s.values.push_back(k > 0 ? v.mean().item<double>() : NAN);
      s.errors.push_back(k > 1 ? v.std().item<double>() / std::sqrt(k) : 0.0);
    }
    series.push_back(s);
  }
  if ((labels >= 0).logical_and(labels <= 9).any().item<bool>()) {
    const fs::path png = figures_ / "digit_delta.png";
    report::bar_chart(png, digits, series, {"Mean delta per digit", "digit", "mean delta  [%]"});
    figure(png, "Mean delta per digit, with the standard error of the mean as error bars.");
  } else {
    note("the per-digit mean delta: the run's images have no labels.");
  }
}

// ---- comparison panels (annex C, figures 9 to 13) -----------------------------------------

std::vector<int64_t> ReportBuilder::chosen_images() const {
  std::vector<int64_t> chosen = step_.images;
  for (int64_t i : chosen) {
    require(i >= 0 && i < data_.size(),
            fmt::format("chosen image {} is outside the run (positions 0 to {})", i,
                        data_.size() - 1),
            "pass positions in the run's image range to --images");
  }
  if (!chosen.empty()) return chosen;
  std::set<int64_t> seen;
  for (const auto& m : data_.methods)
    for (int64_t i : method_entry(m).value("curve_images", std::vector<int64_t>{}))
      if (i >= 0 && i < data_.size() && seen.insert(i).second) chosen.push_back(i);
  for (int64_t i = 0; i < data_.size() && static_cast<int64_t>(chosen.size()) < kDefaultChosen;
       ++i)
    if (seen.insert(i).second) chosen.push_back(i);
  return chosen;
}

void ReportBuilder::comparison_panels(const std::string& name, const std::string& what,
                                      const std::vector<int64_t>& positions,
                                      const std::function<std::string(int64_t)>& column_label) {
  auto index = torch::tensor(positions, torch::kInt64);
  // Rows: the target, then each latent space's decoding. Columns: the images.
  std::vector<std::string> row_names = {"target z"};
  std::vector<torch::Tensor> grey = {data_.images.index_select(0, index).to(torch::kFloat32)};
  for (const auto& m : data_.methods) {
    row_names.push_back(data_.methods.size() > 1 ? "D(MN " + m + ")" : "D(MN)");
    grey.push_back(data_.decode(data_.mn.at(m).index_select(0, index)));
  }
  row_names.push_back("D(MT)");
  grey.push_back(data_.decode(data_.mt.index_select(0, index)));
  for (const auto& [name, what] : data_.extra_names) {
    row_names.push_back("D(" + name + ")");
    grey.push_back(data_.decode(data_.extra.at(name).index_select(0, index)));
  }
  auto stacked = torch::cat(grey);  // (rows * cols, P), row-major as grid_raster wants
  const int rows = static_cast<int>(grey.size()), cols = static_cast<int>(positions.size());
  std::string columns;
  for (int64_t i : positions) columns += (columns.empty() ? "" : ", ") + column_label(i);
  std::string row_text;
  for (const auto& r : row_names) row_text += (row_text.empty() ? "" : ", ") + r;
  for (bool binarized : {false, true}) {
    auto pixels = binarized ? (stacked > 0.5).to(torch::kFloat32) : stacked;
    const fs::path png =
        figures_ / fmt::format("panel_{}_{}.png", name, binarized ? "binarized" : "grey");
    report::GridOptions options;
    options.scale = kPanelScale;
    report::write_image_grid(png, to_floats(pixels), rows, cols, static_cast<int>(data_.height),
                             static_cast<int>(data_.width), options);
    figure(png,
           fmt::format("{}, {}. Rows, top to bottom: {}{}. Columns: images {}.", what,
                       binarized ? "decodings binarized at 0.5" : "decodings in grey levels",
                       row_text,
                       data_.extra.count("MB") ? "" : " (no D(MB): run preimage analyze)",
                       columns),
           /*pixelated=*/true);
  }
}

void ReportBuilder::panel_section() {
  doc_.heading("Decoded images (thesis annex C, figures 9 to 13)");
  const std::string& m = data_.primary();
  auto delta = run_.read_method_array(m, "delta").to(torch::kFloat64);
  auto final_loss = run_.read_method_array(m, "final").to(torch::kFloat64);
  auto with_delta = [&](int64_t i) {
    return fmt::format("{} {:+.1f}%", image_name(i), delta[i].item<double>());
  };
  auto with_loss = [&](int64_t i) {
    return fmt::format("{} {:.1f}", image_name(i), final_loss[i].item<double>());
  };
  comparison_panels("chosen", "Chosen images", chosen_, with_delta);

  const int64_t k = std::min(step_.ranked, data_.size());
  auto take = [&](const torch::Tensor& values, bool largest) {
    // NaN sorts last either way: masked to +-inf so that it is never picked.
    auto v = values.nan_to_num(largest ? -INFINITY : INFINITY);
    auto idx = std::get<1>(v.topk(k, 0, largest, /*sorted=*/true));
    std::vector<int64_t> out;
    for (int64_t j = 0; j < k; ++j) out.push_back(idx[j].item<int64_t>());
    return out;
  };
  const std::string by = data_.methods.size() > 1 ? " (" + m + ")" : "";
  comparison_panels("best_delta", fmt::format("The {} best (most negative) deltas{}", k, by),
                    take(delta, false), with_delta);
  comparison_panels("lowest_loss", fmt::format("The {} lowest final losses{}", k, by),
                    take(final_loss, false), with_loss);
  comparison_panels("highest_loss", fmt::format("The {} highest final losses{}", k, by),
                    take(final_loss, true), with_loss);
}

// ---- what only `preimage analyze` provides ---------------------------------------------------

void ReportBuilder::success_section() {
  doc_.heading("Success rate (thesis 3.4)");
  if (!analysis_.present()) {
    note("the classifier's success rates: analysis.json is missing (run preimage analyze " +
         run_.path().string() + ", then preimage report again).");
    return;
  }
  analysis_.success_tables(doc_);
  std::vector<report::BarSeries> series = analysis_.digit_success_series();
  if (series.empty()) {
    note("the per-digit success rate: analysis.json holds no per-digit success rates.");
    return;
  }
  std::vector<std::string> digits;
  for (int c = 0; c < 10; ++c) digits.push_back(std::to_string(c));
  const fs::path png = figures_ / "digit_success.png";
  report::bar_chart(png, digits, series,
                    {"Success rate per digit", "digit", "decoded image classified as the original  [%]"});
  figure(png, "Share of images per digit whose binarized decoding the classifier puts in the same "
              "class as the original image (the thesis's success rate), per latent space.");
}

void ReportBuilder::normality_section() {
  doc_.heading("Normality tests (thesis 3.5)");
  if (!analysis_.present()) {
    note("the normality tests: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis_.normality_tables(doc_);
}

void ReportBuilder::bonus_section() {
  doc_.heading("Bonus model MB (thesis 3.6)");
  if (!analysis_.present()) {
    note("the bonus model MB: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis_.bonus_tables(doc_);
  if (data_.extra.empty())
    note("MB's latent points: the run has no latents/MB.npy, so the figures show MT and MN "
         "only.");
  else
    doc_.paragraph("The bonus models' latents (latents/MB.npy, latents/MA.npy) appear in the "
                   "latent scatter and as the last rows of every panel of decoded images.");
}

// ---- the vector field (figure 14) ----------------------------------------------------------

void ReportBuilder::vector_section() {
  doc_.heading("Vector analysis (thesis 3.6.3, figure 14)");
  analysis_.vector_tables(doc_);
  const int64_t n = data_.size();
  if (data_.latent_dim() < 2) {
    note("the vector field needs L >= 2.");
    return;
  }
  auto u = data_.mt.mean(0, /*keepdim=*/true) - data_.mt;  // (N, L) towards the mean of MT
  for (const auto& m : data_.methods) {
    auto v = data_.mn.at(m) - data_.mt;  // (N, L) the inversion's move
    auto dot = (u * v).sum(1);           // (N)
    auto abs_dot = dot.abs();
    // Opacity by |u.v|, scaled by its 95th percentile so that one outlier does not hide the
    // rest, with a floor so that every drawn arrow stays visible.
    const double scale =
        std::max(abs_dot.quantile(0.95).item<double>(), std::numeric_limits<double>::min());
    const int64_t stride = std::max<int64_t>(1, (n + step_.max_arrows - 1) / step_.max_arrows);
    std::vector<report::Arrow> arrows;
    for (int64_t i = 0; i < n; i += stride) {
      report::Arrow a;
      a.x = data_.mt[i][0].item<double>();
      a.y = data_.mt[i][1].item<double>();
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
    const fs::path png = figures_ / fmt::format("vector_field_{}.png", m);
    report::quiver_plot(png, arrows,
                        {fmt::format("v = MN - MT ({}), from each MT point", m), "y_1", "y_2"},
                        options);
    figure(png, fmt::format(
                    "Arrows from MT_i to MN_i ({}) for {} of {} images{}; blue where u.v > 0 with "
                    "u = mean(MT) - MT_i ({:.1f} % of all images), red otherwise; opacity grows "
                    "with |u.v| (full at its 95th percentile). Mean |v| = {:.3g}.",
                    m, arrows.size(), n,
                    stride > 1 ? fmt::format(" (every {}th)", stride) : "", positive,
                    mean_length));
  }
}

// ---- the solver comparison (issue 3's benchmark) --------------------------------------------

void ReportBuilder::solver_comparison_section() {
  doc_.heading("Solver comparison");
  const fs::path file = run_.path() / "solver_benchmark.json";
  if (!fs::exists(file)) {
    note("the solver comparison: the run has no solver_benchmark.json (preimage bench-solvers " +
         run_.path().string() + " writes it).");
    return;
  }
  json bench;
  try {
    bench = json::parse(util::read_file(file));
  } catch (const json::exception& e) {
    note(fmt::format("the solver comparison: {} is not valid JSON ({}).", file.string(), e.what()));
    return;
  }
  std::vector<report::Series> series;
  std::vector<std::vector<std::string>> rows;
  bool any_curve = false;
  for (const auto& row : bench.value("methods", json::array())) {
    const std::string method = row.value("method", "?");
    report::Series s{method, {}, {}};
    if (row.contains("curve") && row["curve"].contains("seconds") && row["curve"].contains("loss")) {
      // Mean loss over the images against wall time, as the benchmark sampled it.
      s.x = row["curve"]["seconds"].get<std::vector<double>>();
      s.y = row["curve"]["loss"].get<std::vector<double>>();
      any_curve = true;
    } else if (row.contains("seconds") && row.contains("mean_final_loss")) {
      s.x = {row["seconds"].get<double>()};
      s.y = {row["mean_final_loss"].get<double>()};
    }
    if (!s.x.empty()) series.push_back(std::move(s));
    auto pct = [&](const char* key) {
      return row.contains(key) ? fmt::format("{:.1f} %", 100 * row[key].get<double>()) : "";
    };
    auto num = [&](const char* key, int digits) {
      return row.contains(key) ? fmt::format("{:.{}f}", row[key].get<double>(), digits) : "";
    };
    rows.push_back({method, num("seconds", 2), num("images_per_second", 0),
                    num("mean_final_loss", 4), num("mean_delta_pct", 2),
                    pct("within_oracle"), pct("converged"), num("mean_iterations", 1)});
  }
  doc_.table({"method", "wall s", "images/s", "mean final loss", "mean delta %",
              "within 0.1% of oracle", "converged", "mean iterations"},
             rows,
             fmt::format("solver_benchmark.json: {} images, from the encoder's start",
                         bench.value("images", int64_t{0})));
  if (series.empty()) {
    note("the loss-against-time figure: solver_benchmark.json has no timings.");
    return;
  }
  report::LinePlotOptions options;
  options.log_x = true;
  options.markers = true;
  options.canvas.width = 1300;  // the legend's long method names take a third of the width
  const fs::path png = figures_ / "solver_comparison.png";
  report::line_plot(png, series,
                    {"Mean final loss against wall time", "wall time  [s] (log scale)",
                     "mean loss over the images"},
                    options);
  figure(png, any_curve ? "Mean loss over the benchmark's images against wall time, per method."
                        : "Each method's mean final loss against its wall time on the "
                          "benchmark's images (one point per method: the benchmark records no "
                          "curve over time); lower left is better.");
}

// ---- timings -------------------------------------------------------------------------------

void ReportBuilder::timings_section(double report_seconds) {
  doc_.heading("Timings");
  std::vector<std::vector<std::string>> rows;
  const auto& m = manifest();
  if (m.contains("model") && m["model"].contains("seconds")) {
    std::string detail;
    const fs::path log = run_.path() / "train_log.csv";
    if (fs::exists(log)) {
      const auto csv = util::read_csv(log);
      if (!csv.rows.empty())
        detail = fmt::format("{} epochs, {} per epoch", csv.rows.size(),
                             seconds_str(m["model"]["seconds"].get<double>() /
                                         static_cast<double>(csv.rows.size())));
    }
    rows.push_back({"training", seconds_str(m["model"]["seconds"].get<double>()), detail});
  }
  for (const auto& method : data_.methods) {
    const auto ms = method_entry(method);
    if (!ms.contains("seconds")) continue;
    const double s = ms["seconds"].get<double>();
    rows.push_back({"inversion (" + method + ")", seconds_str(s),
                    fmt::format("{} images, {:.3g} ms per image (the thesis: 1200 ms)",
                                data_.size(), 1000 * s / static_cast<double>(data_.size()))});
  }
  if (auto s = analysis_.seconds()) rows.push_back({"analysis", seconds_str(*s), ""});
  rows.push_back({"report", seconds_str(report_seconds),
                  fmt::format("{} figures", out_.figures.size())});
  doc_.table({"step", "wall time", "detail"}, rows, "Wall time of each step of the run");
}

}  // namespace

void require_report_tools() {
  require(report::find_program("gnuplot").has_value(),
          "gnuplot was not found in $PATH: the report's figures are drawn with it",
          "install it (sudo apt-get install gnuplot-nox; scripts/setup.sh does), or pass "
          "--no-report to preimage run");
}

ReportOutput write_report(run::RunFolder& run, const ReportStep& step) {
  require_report_tools();  // before any work: every figure needs gnuplot
  require(step.ranked >= 1 && step.manifold_points >= 2 && step.max_arrows >= 1 &&
              step.max_points >= 1 && step.histogram_bins >= 1 && step.manifold_radius > 0,
          fmt::format("report settings out of range (ranked {}, manifold points {}, radius {}, "
                      "arrows {}, points {}, bins {})",
                      step.ranked, step.manifold_points, step.manifold_radius, step.max_arrows,
                      step.max_points, step.histogram_bins),
          "each must be at least 1 (manifold points at least 2, radius positive)");
  const auto t0 = std::chrono::steady_clock::now();
  ReportBuilder builder(run, step);
  builder.build();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  builder.timings_section(seconds);
  ReportOutput out = std::move(builder.output());
  builder.document().write(run.path());
  out.html = run.path() / "report.html";
  out.markdown = run.path() / "report.md";
  out.seconds = seconds;

  std::vector<std::string> figure_names;
  for (const auto& f : out.figures) figure_names.push_back(f.lexically_relative(run.path()).string());
  run.manifest()["report"] = {{"seconds", seconds},
                              {"figures", figure_names},
                              {"notes", out.notes},
                              {"files", json::array({"report.html", "report.md"})}};
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
