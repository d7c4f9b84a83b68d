#pragma once
// The report's view of RUN/analysis.json (written by `preimage analyze`, schema in
// docs/ANALYSIS.md): the tables of the thesis's chapter 3 and the data behind some figures.
// Kept apart from report_step.cpp so that a change of the analysis's schema touches one file.
// Every accessor degrades gracefully: an absent file or key gives nothing, never an exception.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "report/document.h"
#include "report/figures.h"

namespace preimage::pipeline {

class ReportAnalysis {
 public:
  // Reads `run_folder`/analysis.json if it exists; a corrupt file is logged and treated as absent.
  static ReportAnalysis load(const std::filesystem::path& run_folder);

  bool present() const { return !json_.is_null(); }
  const nlohmann::json& raw() const { return json_; }

  // Annex E (mean vectors and covariance matrices of every latent space), when analysis.json
  // has it; otherwise the report computes it from the run.
  bool has_space_table() const;
  void space_table(report::Document& doc) const;
  // Annex F and the delta statistics (variance, correlation with the final loss, the digits of
  // the lowest losses). Nothing when absent.
  void delta_table(report::Document& doc) const;
  // Section 3.4: success rates per latent space ("right N out of M (P%)").
  void success_tables(report::Document& doc) const;
  // Per-digit success rate (%), one series per latent space; empty when absent.
  std::vector<report::BarSeries> digit_success_series() const;
  // Section 3.5: KS, Lilliefors, Shapiro-Wilk, Mardia / Henze-Zirkler per latent space.
  void normality_tables(report::Document& doc) const;
  // Section 3.6: the bonus model's training and its comparison with MT.
  void bonus_tables(report::Document& doc) const;
  // Section 3.6.3: share of positive u.v, mean cosine.
  void vector_tables(report::Document& doc) const;
  // Wall time of `analyze`, when recorded.
  std::optional<double> seconds() const;

 private:
  nlohmann::json json_;  // null when absent
};

// Renders any JSON value as report tables: an object of scalars as a two-column table, an array
// of flat objects as one row each, an object of flat objects as one row per key. Used for the
// parts of analysis.json the report has no dedicated layout for. Exposed for tests.
void render_json_tables(report::Document& doc, const nlohmann::json& value,
                        const std::string& caption);

}  // namespace preimage::pipeline
