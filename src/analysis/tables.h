#pragma once
// The tables of analysis.json (schema: docs/ANALYSIS.md), the thesis's sections 3.3 to 3.6 and
// annexes E and F, rendered once into a report::Document: `preimage analyze` prints them as
// Markdown, and the report places each group in its section. Built from the JSON alone, so that
// a saved analysis renders again; a part whose layout is not the expected one is shown as raw
// tables rather than failing (a warning says so).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/document.h"
#include "report/figures.h"

namespace preimage::analysis {

// Annex E: mean vector, covariance matrix and mean loss of every latent space; the distances
// between paired points of two spaces.
void space_tables(report::Document& doc, const nlohmann::json& analysis);
// Section 3.3 and annex F: losses and deltas per space with their correlation, the digits of
// the lowest final losses, the mean loss and delta per digit.
void delta_tables(report::Document& doc, const nlohmann::json& analysis);
// The best and worst images of each space, by delta and by final loss (figures 11-13).
void ranked_tables(report::Document& doc, const nlohmann::json& analysis);
// Section 3.4: the classifier, the success rates, per digit, and the confusion matrices.
void success_tables(report::Document& doc, const nlohmann::json& analysis);
// Section 3.5: the normality tests of every space.
void normality_tables(report::Document& doc, const nlohmann::json& analysis);
// Section 3.6: the bonus models' training and their held-out comparison with MT.
void bonus_tables(report::Document& doc, const nlohmann::json& analysis);
// Section 3.6.3: the vector analysis v = X - MT against u = mean(MT) - MT.
void vector_tables(report::Document& doc, const nlohmann::json& analysis);

// The VAE's own measure (pipeline/likelihood_step.h's section, in analysis.json's "likelihood" or
// likelihood.json): exact log p(x) per set and its quadrature check, the ELBOs and the
// amortization and approximation gaps, the log joint at each space's point beside its loss in
// `analysis` (when given), and the thesis's question answered in nats.
void likelihood_tables(report::Document& doc, const nlohmann::json& likelihood,
                       const nlohmann::json& analysis = {});
// likelihood_tables as Markdown on stdout.
void print_likelihood(const nlohmann::json& likelihood);

// The per-digit success rate (%) of every space, for the report's bar chart; empty when absent.
std::vector<report::BarSeries> digit_success_series(const nlohmann::json& analysis);

// Every group above under its heading.
report::Document analysis_document(const nlohmann::json& analysis);
// analysis_document as Markdown on stdout.
void print_analysis(const nlohmann::json& analysis);

}  // namespace preimage::analysis
