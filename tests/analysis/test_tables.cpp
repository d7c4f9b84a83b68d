// The analysis's tables (analysis/tables.h), the one renderer of analysis.json for stdout and the
// report: the thesis's wording and numbers from a hand-made analysis, and a section of an
// unexpected layout shown as raw tables instead of failing the others.
#include <gtest/gtest.h>

#include "analysis/tables.h"
#include "test_helpers.h"

using namespace preimage;
using nlohmann::json;
using test_support::contains;

namespace {

json distribution(double mean) {
  return {{"mean", mean}, {"sem", 0.5}, {"variance", 2.0}, {"min", mean - 3}, {"max", mean + 3}};
}
json per_digit(double value) {
  json p = {{"mean", json::array()}, {"sem", json::array()}, {"count", json::array()}};
  for (int d = 0; d < 10; ++d) {
    p["mean"].push_back(value + d);
    p["sem"].push_back(0.1);
    p["count"].push_back(d == 1 ? 2 : 0);
  }
  return p;
}
json ranked() {
  return json::array({{{"index", 12}, {"label", 1}, {"delta", -3.5}, {"loss", 20.25}}});
}

// A two-space analysis (MT and grid) with every section but the bonus models.
json small_analysis() {
  json a = {{"run", "/runs/x"}, {"images", 4}, {"loss", "squared-error"},
            {"spaces", {"MT", "grid"}}};
  for (const std::string s : {"MT", "grid"}) {
    json j = {{"mean", {0.25, -0.5}},
              {"covariance", {{1.0, 0.0}, {0.0, 2.0}}},
              {"loss", distribution(s == "MT" ? 40 : 38)},
              {"lowest_loss", ranked()},
              {"highest_loss", ranked()},
              {"lowest_loss_digits", {{"n", 2}, {"counts", {0, 2, 0, 0, 0, 0, 0, 0, 0, 0}}}},
              {"per_digit", {{"loss", per_digit(30)}}}};
    if (s == "grid") {
      j["delta_pct"] = distribution(-4.5);
      j["delta_loss_correlation"] = {{"pearson", {{"r", 0.2091}, {"pvalue", 0.01}}},
                                     {"spearman", nullptr}};
      j["best_by_delta"] = ranked();
      j["worst_by_delta"] = ranked();
      j["per_digit"]["delta_pct"] = per_digit(-5);
    }
    a["latent_statistics"][s] = j;
    json confusion = json::array();
    for (int i = 0; i < 10; ++i) confusion.push_back(json::array({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    json digits = {{"total", {0, 4, 0, 0, 0, 0, 0, 0, 0, 0}},
                   {"rate_vs_original", {nullptr, 0.75, nullptr, nullptr, nullptr, nullptr,
                                         nullptr, nullptr, nullptr, nullptr}}};
    a["success_rate"][s] = {{"vs_original_prediction", {{"right", 3}, {"total", 4}}},
                            {"vs_label", {{"right", 2}, {"total", 4}}},
                            {"per_digit", digits},
                            {"confusion", confusion}};
    a["normality"][s] = {
        {"radius_ks", {{"statistic", 0.108}, {"pvalue", 2e-51}}},
        {"radius_lilliefors", {{"statistic", 0.1}, {"pvalue", 0.2}, {"pvalue_in_valid_range", false}}},
        {"shapiro_wilk", {{"statistic", 0.99}, {"pvalue", 0.5}, {"pvalue_may_be_inaccurate", false}}},
        {"mardia", {{"error", "too few points"}}},
        {"henze_zirkler", {{"statistic", 1.5}, {"pvalue", 0.03}}}};
  }
  a["paired_distances"] = {{{"a", "MT"}, {"b", "grid"}, {"mean", 0.09}, {"sem", 0.01},
                            {"variance", 0.004}}};
  a["classifier"] = {{"path", "/runs/classifier.pt"}, {"test_accuracy", 0.9911},
                     {"test_images", 10000},
                     {"accuracy_on_run_images", {{"right", 4}, {"total", 4}}}};
  a["bonus"] = nullptr;
  a["vector_analysis"]["grid"] = {{"positive", 1}, {"images", 4}, {"share_positive", 0.25},
                                  {"mean_dot", -0.5}, {"mean_cosine", -0.03},
                                  {"mean_norm_v", 0.09}, {"file", "analysis/vectors_grid.npy"}};
  return a;
}

}  // namespace

TEST(AnalysisTables, EverySectionWithTheThesisWording) {
  const std::string md = analysis::analysis_document(small_analysis()).markdown(".");
  for (const char* part :
       {"Mean vector and covariance matrix", "[0.2500, -0.5000]", "[[1.0000, 0.0000], [0.0000, 2.0000]]",
        "MT - grid", "Losses and deltas", "-4.5 +- 0.5", "0.2091", "Digits of the 2 lowest",
        "Per digit", "grid: best and worst images", "12: 1, -3.5", "right 3 out of 4 (75.00%)",
        "right 2 out of 4 (50.00%)", "0.9911 on 10000 images", "Success rate per digit", "75.00",
        "confusion", "Normality tests", "0.108 (p = 2e-51)", "(p > 0.1)", "n/a",
        "no bonus model", "Vector analysis", "1 out of 4"})
    EXPECT_TRUE(contains(md, part)) << part << "\n" << md;
  const auto bars = analysis::digit_success_series(small_analysis());
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_DOUBLE_EQ(bars[1].values[1], 75.0);
  EXPECT_TRUE(std::isnan(bars[1].values[0]));
}

TEST(AnalysisTables, AnUnexpectedLayoutIsShownRawAndTheRestStillRenders) {
  auto a = small_analysis();
  a["success_rate"]["grid"]["vs_label"] = "three of four";  // not the expected object
  const std::string md = analysis::analysis_document(a).markdown(".");
  EXPECT_TRUE(contains(md, "three of four")) << "the section's raw values are shown\n" << md;
  EXPECT_TRUE(contains(md, "Normality tests")) << "the next sections still render";
  EXPECT_TRUE(contains(md, "0.108 (p = 2e-51)"));
}
