#pragma once
// What the report's sections share: the run's data loaded once, the document being written,
// and the figures and notes so far. Each section is a function of this context, in its own file:
//   report_tables.cpp    results, settings, solver comparison, timings, configuration appendix
//   report_figures.cpp   loss curves, latent spaces and the manifold, deltas, vector field
//   report_panels.cpp    decoded-image panels and the ranked images
//   report_analysis.cpp  what analysis.json holds: success rates, normality, bonus models
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "decoders/model_source.h"
#include "pipeline/report_step.h"
#include "report/document.h"
#include "run/run_folder.h"

namespace preimage::pipeline::report_sections {

namespace fs = std::filesystem;

// Everything the figures read from the run, loaded once.
struct RunData {
  std::vector<std::string> methods;  // in run order; the first ranks images ("primary")
  torch::Tensor images;              // (N, P) the targets
  torch::Tensor labels;              // (N) int64, -1 where unknown
  torch::Tensor indices;             // (N) int64 positions in the source file
  torch::Tensor mt;                  // (N, L) encoder means (float64); undefined without encoder
  std::map<std::string, torch::Tensor> mn;  // (N, L) per method
  // The bonus models' spaces that `analyze` wrote (latents/MB.npy, latents/MA.npy): name, what.
  std::vector<std::pair<std::string, std::string>> extra_names;
  std::map<std::string, torch::Tensor> extra;  // (N, L) per name
  int64_t channels = 1, height = 28, width = 28;
  decoders::GenerativeModel model;

  int64_t size() const { return mn.at(primary()).size(0); }
  int64_t latent_dim() const { return mn.at(primary()).size(1); }
  bool has_mt() const { return mt.defined(); }
  const std::string& primary() const { return methods.front(); }
  int label(int64_t i) const { return static_cast<int>(labels[i].item<int64_t>()); }
  int64_t source_index(int64_t i) const { return indices[i].item<int64_t>(); }
  bool labelled() const;  // every label in 0..9
  // sigmoid(D(latents)): grey levels in [0, 1], (B, H*W) (several channels averaged).
  torch::Tensor decode(const torch::Tensor& latents) const;
  // Images (B, C*H*W) as grey levels (B, H*W): their channels averaged.
  torch::Tensor grey(const torch::Tensor& images) const;
};

// Loads the run; throws UserError when it lacks what every report needs (MT, a method's
// latents, the model) or its files disagree in size.
RunData load_run_data(run::RunFolder& run);

class ReportContext {
 public:
  ReportContext(run::RunFolder& run, const ReportStep& step);

  run::RunFolder& run;
  const ReportStep& step;
  nlohmann::json analysis;  // analysis.json, null when absent or unreadable
  RunData data;
  report::Document doc;
  fs::path figures;          // RUN/figures
  std::vector<int64_t> chosen;  // the "chosen images" panel's positions
  ReportOutput out;

  // Adds a figure (and counts it).
  void figure(const fs::path& png, const std::string& caption, bool pixelated = false);
  // A figure or table the data does not allow: said in the report, never silently dropped.
  void note(const std::string& text);
  // "#index (digit)" of image i.
  std::string image_name(int64_t i) const;
  // The method's record (settings, seconds, curve images).
  run::MethodRecord method(const std::string& name) const { return run.method(name); }
};

// The positions of the "chosen images" panel: the step's, else the images with loss curves,
// then the first ones (6 in all); throws UserError for a position outside the run.
std::vector<int64_t> chosen_images(const ReportContext& c);  // report_panels.cpp

// The sections, in report order.
void results_section(ReportContext& c);        // report_tables.cpp
void loss_curve_section(ReportContext& c);     // report_figures.cpp
void latent_space_section(ReportContext& c);   // report_figures.cpp
void delta_section(ReportContext& c);          // report_figures.cpp
void panel_section(ReportContext& c);          // report_panels.cpp
void success_section(ReportContext& c);        // report_analysis.cpp
void normality_section(ReportContext& c);      // report_analysis.cpp
void bonus_section(ReportContext& c);          // report_analysis.cpp
void vector_section(ReportContext& c);         // report_figures.cpp
void likelihood_section(ReportContext& c);     // report_analysis.cpp
void certificate_section(ReportContext& c);    // report_analysis.cpp
void solver_comparison_section(ReportContext& c);  // report_tables.cpp
void settings_section(ReportContext& c);       // report_tables.cpp
void timings_section(ReportContext& c, double report_seconds);  // report_tables.cpp
void configuration_appendix(ReportContext& c); // report_tables.cpp

// Shared helpers.
std::vector<double> to_doubles(const torch::Tensor& t);
std::vector<float> to_floats(const torch::Tensor& t);
std::string shape_str(const torch::Tensor& t);
std::string mean_pm(const nlohmann::json& m, int digits = 4);  // "mean +- stderr"
std::string seconds_str(double s);
// The objective a method minimised, as the figures' axis label.
std::string loss_label(const nlohmann::json& settings);

}  // namespace preimage::pipeline::report_sections
