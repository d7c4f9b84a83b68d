// The report's panels of decoded images (thesis annex C, figures 9 to 13): the chosen images,
// the best deltas, the lowest and highest losses; each row a latent space's decoding, labelled.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "analysis/tables.h"
#include "pipeline/report_context.h"
#include "report/image_grid.h"
#include "util/error.h"

namespace preimage::pipeline::report_sections {
namespace {
constexpr int64_t kDefaultChosen = 6;  // chosen images when none are named
constexpr int kPanelScale = 3;         // 28 px digits drawn at 84 px: readable at 100% zoom
}  // namespace

// ---- comparison panels (annex C, figures 9 to 13) -----------------------------------------

std::vector<int64_t> chosen_images(const ReportContext& c) {
  std::vector<int64_t> chosen = c.step.images;
  for (int64_t i : chosen) {
    require(i >= 0 && i < c.data.size(),
            fmt::format("chosen image {} is outside the run (positions 0 to {})", i,
                        c.data.size() - 1),
            "pass positions in the run's image range to --images");
  }
  if (!chosen.empty()) return chosen;
  std::set<int64_t> seen;
  for (const auto& m : c.data.methods)
    for (int64_t i : c.method(m).curve_images)
      if (i >= 0 && i < c.data.size() && seen.insert(i).second) chosen.push_back(i);
  for (int64_t i = 0; i < c.data.size() && static_cast<int64_t>(chosen.size()) < kDefaultChosen;
       ++i)
    if (seen.insert(i).second) chosen.push_back(i);
  return chosen;
}

void comparison_panels(ReportContext& c, const std::string& name, const std::string& what,
                                      const std::vector<int64_t>& positions,
                                      const std::function<std::string(int64_t)>& column_label) {
  auto index = torch::tensor(positions, torch::kInt64);
  // Rows: the target, then each latent space's decoding. Columns: the images.
  std::vector<std::string> row_names = {"target z"};
  std::vector<torch::Tensor> grey = {c.data.images.index_select(0, index).to(torch::kFloat32)};
  for (const auto& m : c.data.methods) {
    row_names.push_back(c.data.methods.size() > 1 ? "D(MN " + m + ")" : "D(MN)");
    grey.push_back(c.data.decode(c.data.mn.at(m).index_select(0, index)));
  }
  if (c.data.has_mt()) {
    row_names.push_back("D(MT)");
    grey.push_back(c.data.decode(c.data.mt.index_select(0, index)));
  }
  for (const auto& [name, what] : c.data.extra_names) {
    row_names.push_back("D(" + name + ")");
    grey.push_back(c.data.decode(c.data.extra.at(name).index_select(0, index)));
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
        c.figures / fmt::format("panel_{}_{}.png", name, binarized ? "binarized" : "grey");
    report::GridOptions options;
    options.scale = kPanelScale;
    options.row_labels = row_names;
    report::write_image_grid(png, to_floats(pixels), rows, cols, static_cast<int>(c.data.height),
                             static_cast<int>(c.data.width), options);
    c.figure(png,
           fmt::format("{}, {}. Rows (labelled): {}{}. Columns: images {}.", what,
                       binarized ? "decodings binarized at 0.5" : "decodings in grey levels",
                       row_text,
                       c.data.extra.count("MB") || !c.data.has_mt()
                           ? ""
                           : " (no D(MB): run preimage analyze)",
                       columns),
           /*pixelated=*/true);
  }
}

void panel_section(ReportContext& c) {
  c.doc.heading("Decoded images (thesis annex C, figures 9 to 13)");
  const std::string& m = c.data.primary();
  auto delta = c.run.read_method_array(m, "delta").to(torch::kFloat64);
  auto final_loss = c.run.read_method_array(m, "final").to(torch::kFloat64);
  auto with_delta = [&](int64_t i) {
    return fmt::format("{} {:+.1f}%", c.image_name(i), delta[i].item<double>());
  };
  auto with_loss = [&](int64_t i) {
    return fmt::format("{} {:.1f}", c.image_name(i), final_loss[i].item<double>());
  };
  comparison_panels(c, "chosen", "Chosen images", c.chosen, with_delta);

  const int64_t k = std::min(c.step.ranked, c.data.size());
  auto take = [&](const torch::Tensor& values, bool largest) {
    // NaN sorts last either way: masked to +-inf so that it is never picked.
    auto v = values.nan_to_num(largest ? -INFINITY : INFINITY);
    auto idx = std::get<1>(v.topk(k, 0, largest, /*sorted=*/true));
    std::vector<int64_t> out;
    for (int64_t j = 0; j < k; ++j) out.push_back(idx[j].item<int64_t>());
    return out;
  };
  const std::string by = c.data.methods.size() > 1 ? " (" + m + ")" : "";
  comparison_panels(c, "best_delta", fmt::format("The {} best (most negative) deltas{}", k, by),
                    take(delta, false), with_delta);
  comparison_panels(c, "lowest_loss", fmt::format("The {} lowest final losses{}", k, by),
                    take(final_loss, false), with_loss);
  comparison_panels(c, "highest_loss", fmt::format("The {} highest final losses{}", k, by),
                    take(final_loss, true), with_loss);
  if (c.analysis.is_object()) analysis::ranked_tables(c.doc, c.analysis);
}

}  // namespace preimage::pipeline::report_sections
