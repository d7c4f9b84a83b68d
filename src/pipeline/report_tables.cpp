// The report's tables from the run folder itself: the results (first), the settings each method
// used, the solver comparison, the timings, and the whole configuration as an appendix.
#include <map>

#include <fmt/format.h>

#include "analysis/tables.h"
#include "model/vae.h"
#include "pipeline/report_context.h"
#include "pipeline/summary.h"
#include "report/figures.h"
#include "report/json_tables.h"
#include "util/atomic_file.h"
#include "util/csv.h"

namespace preimage::pipeline::report_sections {

using nlohmann::json;

void results_section(ReportContext& c) {
  c.doc.heading("Results (thesis 3.3)");
  const json summary = summarize(c.run);
  std::vector<std::vector<std::string>> rows;
  for (const auto& method : c.data.methods) {
    const auto& s = summary["methods"][method];
    // Why images stopped, and how many left the latent box.
    std::map<int64_t, int64_t> counts;
    for (auto r : to_doubles(c.run.read_method_array(method, "stop_reason")))
      counts[static_cast<int64_t>(r)]++;
    std::string stops;
    for (const auto& [r, n] : counts)
      stops += fmt::format("{}{} {}", stops.empty() ? "" : ", ",
                           solvers::stop_reason_name(static_cast<solvers::StopReason>(r)), n);
    int64_t left = 0;
    if (c.run.has_method_array(method, "left_box"))
      left = c.run.read_method_array(method, "left_box").to(torch::kInt64).sum().item<int64_t>();
    rows.push_back({method, std::to_string(c.data.size()), mean_pm(s["initial_loss"]),
                    mean_pm(s["final_loss"]), mean_pm(s["delta_pct"]) + " %",
                    fmt::format("{:.1f}", s["iterations"]["mean"].get<double>()), stops,
                    std::to_string(left)});
  }
  c.doc.table({"method", "images", "mean initial loss", "mean final loss", "mean delta",
               "mean iterations", "stopped by", "left the box"},
              rows,
              "Losses over the run's images (mean +- standard error); delta = (final - initial) "
              "/ initial x 100");

  if (c.analysis.is_object() && c.analysis.contains("latent_statistics")) {
    analysis::space_tables(c.doc, c.analysis);
    return;
  }
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
  c.doc.table({"latent space", "mean vector", "covariance matrix"}, spaces,
              "Annex E: mean vectors and covariance matrices");
}

void settings_section(ReportContext& c) {
  c.doc.heading("Settings");
  std::vector<std::pair<std::string, std::string>> entries;
  if (c.run.has_images()) {
    const auto im = c.run.images();
    entries.emplace_back("images", fmt::format("{}, positions {} ({} images{})", im.name,
                                               im.range.str(), im.count,
                                               im.spec.binarize ? fmt::format(", binarized at {}", data::binarize_name(im.spec.binarize)) : ", grey levels"));
  }
  if (c.run.has_model()) {
    const auto model = c.run.model();
    if (model.architecture.is_object())
      entries.emplace_back("model", model::VaeConfig::from_json(model.architecture).describe());
    if (model.training) {
      const auto& t = *model.training;
      entries.emplace_back(
          "training", fmt::format("{} epochs, batch {}, lr {}, on {} ({}), seed {}",
                                  t.settings.value("epochs", 0), t.settings.value("batch_size", 0),
                                  t.settings.value("learning_rate", 0.0), t.data, t.images,
                                  t.settings.value("seed", 0)));
      if (t.final_test_elbo)
        entries.emplace_back("test ELBO after training", fmt::format("{:.2f}", *t.final_test_elbo));
    }
  }
  c.doc.settings(entries, "The model and the images");
  // One row per method: only the settings it uses (the registry's), as it recorded them.
  std::vector<std::vector<std::string>> rows;
  for (const auto& method : c.data.methods) {
    std::string used;
    const auto record = c.method(method);  // items() refers to its settings
    for (const auto& [k, v] : record.settings.items())
      used += fmt::format("{}{} = {}", used.empty() ? "" : ", ", k, report::json_cell(v));
    rows.push_back({method, used});
  }
  c.doc.table({"method", "settings"}, rows,
              "What each method ran with (the full configuration: appendix)");
}

void solver_comparison_section(ReportContext& c) {
  c.doc.heading("Solver comparison");
  const fs::path file = c.run.path() / "solver_benchmark.json";
  if (!fs::exists(file)) {
    c.note("the solver comparison: the run has no solver_benchmark.json (preimage bench-solvers " +
           c.run.path().string() + " writes it).");
    return;
  }
  json bench;
  try {
    bench = json::parse(util::read_file(file));
  } catch (const json::exception& e) {
    c.note(fmt::format("the solver comparison: {} is not valid JSON ({}).", file.string(),
                       e.what()));
    return;
  }
  std::vector<report::Series> series;
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : bench.value("methods", json::array())) {
    const std::string method = row.value("method", "?");
    if (row.contains("seconds") && row.contains("mean_final_loss"))
      series.push_back({method, {row["seconds"].get<double>()},
                        {row["mean_final_loss"].get<double>()}});
    auto pct = [&](const char* key) {
      return row.contains(key) ? fmt::format("{:.1f} %", 100 * row[key].get<double>()) : "";
    };
    auto num = [&](const char* key, int digits) {
      return row.contains(key) ? fmt::format("{:.{}f}", row[key].get<double>(), digits) : "";
    };
    rows.push_back({method, num("seconds", 2), num("images_per_second", 0),
                    num("mean_final_loss", 4), num("mean_delta_pct", 2), pct("within_oracle"),
                    pct("converged"), num("mean_iterations", 1)});
  }
  c.doc.table({"method", "wall s", "images/s", "mean final loss", "mean delta %",
               "within 0.1% of oracle", "converged", "mean iterations"},
              rows,
              fmt::format("solver_benchmark.json: {} images, from the encoder's start",
                          bench.value("images", int64_t{0})));
  if (series.empty()) {
    c.note("the loss-against-time figure: solver_benchmark.json has no timings.");
    return;
  }
  report::LinePlotOptions options;
  options.log_x = true;
  options.markers = true;
  options.canvas.width = 1300;  // the legend's long method names take a third of the width
  const fs::path png = c.figures / "solver_comparison.png";
  report::line_plot(png, series,
                    {"Mean final loss against wall time", "wall time  [s] (log scale)",
                     "mean loss over the images"},
                    options);
  c.figure(png, "Each method's mean final loss against its wall time on the benchmark's images; "
                "lower left is better.");
}

void timings_section(ReportContext& c, double report_seconds) {
  c.doc.heading("Timings");
  std::vector<std::vector<std::string>> rows;
  if (c.run.has_model()) {
    const auto model = c.run.model();
    if (model.training) {
      std::string detail;
      const fs::path log = c.run.path() / "train_log.csv";
      const double seconds = model.training->seconds;
      if (fs::exists(log)) {
        const auto csv = util::read_csv(log);
        if (!csv.rows.empty())
          detail = fmt::format("{} epochs, {} per epoch", csv.rows.size(),
                               seconds_str(seconds / static_cast<double>(csv.rows.size())));
      }
      rows.push_back({"training", seconds_str(seconds), detail});
    }
  }
  for (const auto& method : c.data.methods) {
    const double s = c.method(method).seconds;
    rows.push_back({"inversion (" + method + ")", seconds_str(s),
                    fmt::format("{} images, {:.3g} ms per image (the thesis: 1200 ms)",
                                c.data.size(), 1000 * s / static_cast<double>(c.data.size()))});
  }
  if (const auto a = c.run.analysis()) rows.push_back({"analysis", seconds_str(a->seconds), ""});
  rows.push_back({"report", seconds_str(report_seconds),
                  fmt::format("{} figures", c.out.figures.size())});
  c.doc.table({"step", "wall time", "detail"}, rows, "Wall time of each step of the run");
}

void configuration_appendix(ReportContext& c) {
  c.doc.heading("Appendix: the whole configuration");
  std::vector<std::pair<std::string, std::string>> entries;
  const auto flat = c.run.manifest().flatten();  // items() refers to it
  for (const auto& [key, value] : flat.items())
    entries.emplace_back(key.substr(1), report::json_cell(value));
  c.doc.settings(entries, "manifest.json, every record");
}

}  // namespace preimage::pipeline::report_sections
