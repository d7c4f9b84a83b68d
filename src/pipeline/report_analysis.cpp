// The report's sections that only `preimage analyze` provides (analysis.json): success rates
// (thesis 3.4), normality tests (3.5), the bonus models (3.6), the likelihood (or likelihood.json,
// from `preimage likelihood`). Their tables come from
// analysis/tables.h, the same as `preimage analyze` prints.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/tables.h"
#include "data/tensor_io.h"
#include "pipeline/certify_step.h"
#include "pipeline/report_context.h"
#include "report/figures.h"
#include "stats/histogram.h"
#include "util/error.h"

namespace preimage::pipeline::report_sections {

// ---- what only `preimage analyze` provides ---------------------------------------------------

void success_section(ReportContext& c) {
  c.doc.heading("Success rate (thesis 3.4)");
  if (!c.analysis.is_object()) {
    c.note("the classifier's success rates: analysis.json is missing (run preimage analyze " +
         c.run.path().string() + ", then preimage report again).");
    return;
  }
  analysis::success_tables(c.doc, c.analysis);
  std::vector<report::BarSeries> series = analysis::digit_success_series(c.analysis);
  if (series.empty()) {
    c.note("the per-digit success rate: analysis.json holds no per-digit success rates.");
    return;
  }
  std::vector<std::string> digits;
  for (int c = 0; c < 10; ++c) digits.push_back(std::to_string(c));
  const fs::path png = c.figures / "digit_success.png";
  report::bar_chart(png, digits, series,
                    {"Success rate per digit", "digit", "decoded image classified as the original  [%]"});
  c.figure(png, "Share of images per digit whose binarized decoding the classifier puts in the same "
              "class as the original image (the thesis's success rate), per latent space.");
}

void normality_section(ReportContext& c) {
  c.doc.heading("Normality tests (thesis 3.5)");
  if (!c.analysis.is_object()) {
    c.note("the normality tests: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis::normality_tables(c.doc, c.analysis);
}

void bonus_section(ReportContext& c) {
  c.doc.heading("Bonus model MB (thesis 3.6)");
  if (!c.analysis.is_object()) {
    c.note("the bonus model MB: analysis.json is missing (run preimage analyze).");
    return;
  }
  analysis::bonus_tables(c.doc, c.analysis);
  if (c.data.extra.empty() && c.data.has_mt())
    c.note("MB's latent points: the run has no latents/MB.npy, so the figures show MT and MN "
         "only.");
  else
    c.doc.paragraph("The bonus models' latents (latents/MB.npy, latents/MA.npy) appear in the "
                   "latent scatter and as the last rows of every panel of decoded images.");
}

void likelihood_section(ReportContext& c) {
  c.doc.heading("Likelihood (the VAE's own measure, in nats)");
  nlohmann::json lk;
  if (c.analysis.is_object() && c.analysis.contains("likelihood")) {
    lk = c.analysis["likelihood"];
  } else {
    const auto file = c.run.path() / "likelihood.json";
    if (fs::exists(file)) {
      std::ifstream in(file);
      lk = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    }
  }
  if (!lk.is_object() || !lk.contains("sets")) {
    std::string why = "run preimage likelihood " + c.run.path().string();
    if (c.analysis.is_object() && c.analysis.contains("left_out") &&
        c.analysis["left_out"].contains("likelihood"))
      why = c.analysis["left_out"]["likelihood"].get<std::string>();
    c.note("the likelihood section: " + why + ".");
    return;
  }
  analysis::likelihood_tables(c.doc, lk, c.analysis.is_object() ? c.analysis : nlohmann::json());
  for (const char* set : {"train", "test"}) {
    const auto file = c.run.path() / "likelihood" / (std::string(set) + "_log_px.npy");
    if (!lk["sets"].contains(set) || !fs::exists(file)) continue;
    std::vector<double> v;
    const auto t = data::read_npy_tensor(file).to(torch::kFloat64).contiguous();
    v.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    if (v.empty()) continue;
    const auto h = stats::histogram(v, static_cast<size_t>(c.step.histogram_bins));
    double mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    report::HistogramOptions options;
    options.marks.push_back({mean, fmt::format("mean {:.2f}", mean)});
    const fs::path png = c.figures / fmt::format("log_px_histogram_{}.png", set);
    report::histogram_plot(png, std::vector<double>(h.counts.begin(), h.counts.end()), h.edges,
                           {fmt::format("Exact log p(x), {} images ({})", set, v.size()),
                            "log p(x)  [nats]", "images"},
                           options);
    c.figure(png, fmt::format("Distribution of the exact log-likelihood of the {} images "
                              "(quadrature over the latent plane).",
                              set));
  }
}

// The certificates of `preimage certify` (certify_step.h), read from the run folder: a section
// only where the run holds one.
void certificate_section(ReportContext& c) {
  const auto section = certificates_section(c.run);
  if (section.empty()) return;
  c.doc.heading("Certificates: the global optimum proven");
  c.doc.paragraph(
      "Branch and bound over the latent box with bounds propagated through the decoder "
      "(preimage certify): per image, no latent point of the box has a loss below the lower "
      "bound; certified where the best point known is within the tolerance of it.");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [method, r] : section.items())
    rows.push_back({method, r["loss"].get<std::string>(),
                    fmt::format("[-{0}, {0}]", r["radius"].get<double>()),
                    std::to_string(r["images"].get<int64_t>()),
                    fmt::format("{:.2f}%", 100 * r["share_certified"].get<double>()),
                    fmt::format("{:.2g}", r["tolerance"].get<double>()),
                    fmt::format("{:.2g} / {:.2g} / {:.2g}", r["gap_quantiles"]["50%"].get<double>(),
                                r["gap_quantiles"]["99%"].get<double>(),
                                r["gap_quantiles"]["max"].get<double>()),
                    fmt::format("{:.0f}", r["cells_per_image"]["mean"].get<double>()),
                    std::to_string(r["below_method"].get<int64_t>()),
                    std::to_string(r["at_edge"].get<int64_t>())});
  c.doc.table({"method", "loss", "box", "images", "certified", "tolerance",
               "gap median / 99% / max", "cells per image", "optimum below the method by > 0.1%",
               "optimum on the border"},
              rows);
}

}  // namespace preimage::pipeline::report_sections
