#include "pipeline/report_context.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/run_model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline::report_sections {

std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous().view(-1);
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<float> to_floats(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous().view(-1);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

std::string shape_str(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "(" + s + ")";
}

std::string mean_pm(const nlohmann::json& m, int digits) {
  return fmt::format("{:.{}f} +- {:.{}f}", m.at("mean").get<double>(), digits,
                     m.at("stderr").get<double>(), digits);
}

std::string seconds_str(double s) {
  if (s >= 120) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.{}f} s", s, s < 10 ? 2 : 1);
}

std::string loss_label(const nlohmann::json& settings) {
  const std::string loss = settings.value("loss", "squared-error");
  std::string label = loss == "bernoulli" ? "Bernoulli NLL of z under sigmoid(D(y))"
                                          : "loss |z - sigmoid(D(y))|²";
  if (settings.value("prior_weight", 0.0) > 0)
    label += fmt::format(" + {:g}|y|²", settings["prior_weight"].get<double>());
  return label;
}

bool RunData::labelled() const {
  return labels.numel() > 0 && (labels >= 0).logical_and(labels <= 9).all().item<bool>();
}

torch::Tensor RunData::decode(const torch::Tensor& latents) const {
  return grey(model.decode_images(latents));
}

torch::Tensor RunData::grey(const torch::Tensor& images) const {
  if (channels == 1) return images;
  return images.view({images.size(0), channels, height * width}).mean(1);
}

RunData load_run_data(run::RunFolder& run) {
  RunData d;
  d.methods = run.methods();
  require(!d.methods.empty(),
          fmt::format("run '{}' records no inversion method: nothing to report",
                      run.path().string()),
          "run preimage invert " + run.path().string() + " (or preimage run) first");
  if (run.has_latents("MT")) d.mt = run.read_latents("MT").to(torch::kFloat64);
  for (const auto& m : d.methods) {
    d.mn[m] = run.read_latents(m).to(torch::kFloat64);
    const auto& first = d.mn.at(d.primary());
    require(d.mn[m].sizes() == first.sizes() && (!d.has_mt() || d.mt.sizes() == first.sizes()),
            fmt::format("run '{}': latents/{}.npy has shape {} but latents/{}.npy has {}",
                        run.path().string(), m, shape_str(d.mn[m]),
                        d.has_mt() ? "MT" : d.primary(),
                        shape_str(d.has_mt() ? d.mt : first)),
            "invert the same images the run encoded");
  }
  auto ds = run.load_images();
  require(ds.size() == d.size(),
          fmt::format("run '{}' has {} images but {} latents of {}", run.path().string(),
                      ds.size(), d.size(), d.primary()),
          "invert the run's images again (preimage invert)");
  d.channels = ds.channels;
  d.height = ds.height;
  d.width = ds.width;
  d.images = d.grey(ds.images);
  d.labels = run.labels();
  d.indices = run.indices();
  d.model = open_run_model(run);
  require_model_fits(d.model, ds, "the run's images");
  // MB and MA, when `preimage analyze` fitted the bonus models.
  for (const auto& [name, what] : {std::pair<std::string, std::string>{"MB", "bonus model"},
                                   {"MA", "amortized inverse"}}) {
    if (!run.has_latents(name)) continue;
    auto y = run.read_latents(name).to(torch::kFloat64);
    if (y.sizes() != d.mn.at(d.primary()).sizes()) {
      spdlog::warn("latents/{}.npy has shape {}, {} {}: left out", name, shape_str(y),
                   d.primary(), shape_str(d.mn.at(d.primary())));
      continue;
    }
    d.extra_names.emplace_back(name, what);
    d.extra[name] = y;
  }
  return d;
}

namespace {
// analysis.json, or null when absent or unreadable (the sections that need it say so).
nlohmann::json load_analysis(const fs::path& run_folder) {
  const auto path = run_folder / "analysis.json";
  if (!fs::exists(path)) return nullptr;
  try {
    return nlohmann::json::parse(util::read_file(path));
  } catch (const std::exception& e) {
    spdlog::warn("{} is unreadable ({}): reported as missing", path.string(), e.what());
    return nullptr;
  }
}

std::string title_of(const run::RunFolder& run) {
  const auto name = run.path().filename().string();
  return fmt::format("Empirical preimage: {}", name.empty() ? run.path().string() : name);
}
}  // namespace

ReportContext::ReportContext(run::RunFolder& run_folder, const ReportStep& report_step)
    : run(run_folder),
      step(report_step),
      analysis(load_analysis(run_folder.path())),
      data(load_run_data(run_folder)),
      doc(title_of(run_folder)),
      figures(run_folder.path() / "figures") {}

void ReportContext::figure(const fs::path& png, const std::string& caption, bool pixelated) {
  doc.figure(png, caption, pixelated);
  out.figures.push_back(png);
  spdlog::info("figure {}", png.filename().string());
}

void ReportContext::note(const std::string& text) {
  doc.paragraph("Not shown: " + text);
  out.notes.push_back(text);
}

std::string ReportContext::image_name(int64_t i) const {
  const int label = data.label(i);
  return label >= 0 ? fmt::format("#{} ({})", data.source_index(i), label)
                    : fmt::format("#{}", data.source_index(i));
}

}  // namespace preimage::pipeline::report_sections
