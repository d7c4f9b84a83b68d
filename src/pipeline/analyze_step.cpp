#include "pipeline/analyze_step.h"

#include <chrono>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "analysis/latent_stats.h"
#include "analysis/normality.h"
#include "analysis/success_rate.h"
#include "analysis/tables.h"
#include "analysis/vector_field.h"
#include "data/tensor_io.h"
#include "pipeline/certify_step.h"
#include "pipeline/run_model.h"
#include "solvers/loss.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {
using namespace preimage::analysis;
namespace fs = std::filesystem;

nlohmann::json AnalyzeConfig::to_json() const {
  return {{"classifier", classifier},
          {"train_classifier", train_classifier},
          {"classifier_training", classifier_job.to_json()},
          {"bonus", bonus.to_json()},
          {"bonus_method", bonus_method},
          {"loss", loss},
          {"histogram_bins", histogram_bins},
          {"lowest", lowest},
          {"top", top},
          {"henze_zirkler_max_points", henze_zirkler_max_points},
          {"likelihood", likelihood ? likelihood_config.to_json() : nlohmann::json(false)}};
}

namespace {

constexpr int kSchemaVersion = 1;  // bump when a field of analysis.json changes meaning

// One latent space compared side by side with the others.
struct Space {
  std::string name;       // "MT", a method's name, "MB", "MA"
  std::string kind;       // "encoder", "method", "bonus", "amortized"
  std::string file;       // its latents, relative to the run folder
  torch::Tensor latents;  // (N, L) float32
  torch::Tensor loss;     // (N) float64 loss of each image at these latents
  torch::Tensor delta;    // (N) float64 delta %, undefined for MT
};

class Timer {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }
 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Loss of every image at `latents` (N, L) against `images` (N, P): the data term of `kind`.
torch::Tensor image_losses(const decoders::Decoder& decoder, solvers::LossKind kind,
                           const torch::Tensor& latents, const torch::Tensor& images,
                           int64_t batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < latents.size(0); b += batch_size) {
    const int64_t e = std::min(b + batch_size, latents.size(0));
    auto logits = decoder.forward(latents.slice(0, b, e).to(decoder.dtype()));  // (B, P)
    out.push_back(solvers::pixel_loss(kind, logits, images.slice(0, b, e), torch::Tensor(),
                                      /*need_grad=*/false, /*need_curvature=*/false)
                      .value.to(torch::kFloat64));
  }
  return torch::cat(out);
}

// Checks a per-image array has one entry per image of the run.
void require_rows(const torch::Tensor& t, int64_t n, const fs::path& file, const fs::path& run) {
  require(t.dim() >= 1 && t.size(0) == n,
          fmt::format("'{}' holds {} rows but the run has {} images (labels.npy): latent spaces "
                      "and per-image arrays must have the same length",
                      (run / file).string(), t.dim() >= 1 ? t.size(0) : 0, n),
          "re-run preimage encode / invert on this run folder so every file covers the same "
          "images");
}

nlohmann::json mean_sem(const torch::Tensor& values) {
  auto v = values.to(torch::kFloat64);
  const double n = static_cast<double>(v.numel());
  return {{"mean", n > 0 ? v.mean().item<double>() : 0.0},
          {"sem", n > 1 ? v.std().item<double>() / std::sqrt(n) : 0.0}};
}

}  // namespace

nlohmann::json analyze_run(run::RunFolder& run, const AnalyzeConfig& cfg) {
  const auto start = std::chrono::steady_clock::now();
  Timer timer;
  const fs::path dir = run.path();
  const auto methods = run.methods();
  require(!methods.empty(),
          fmt::format("run '{}' records no inversion method (manifest.json has no method_order)",
                      dir.string()),
          "invert it first: preimage invert " + dir.string());

  // Load and check everything before any long work.
  const auto labels = run.labels();    // (N) int64
  const auto indices = run.indices();  // (N) int64
  const int64_t n = labels.size(0);
  require(n >= 1, fmt::format("run '{}' has no images (labels.npy is empty)", dir.string()));
  require_rows(indices, n, "indices.npy", dir);
  const auto model = open_run_model(run);
  std::vector<Space> spaces;
  // MT exists where the model has an encoder; without one, the methods' spaces stand alone
  // (and what compares with MT, the bonus models and the vector analysis, is left out).
  const bool has_mt = model.has_encoder();
  if (has_mt) {
    spaces.push_back({"MT", "encoder", "latents/MT.npy", run.read_latents("MT"), {}, {}});
    require_rows(spaces[0].latents, n, "latents/MT.npy", dir);
  }
  for (const auto& m : methods) {
    Space s{m, "method", "latents/" + m + ".npy", run.read_latents(m), {}, {}};
    require_rows(s.latents, n, s.file, dir);
    if (!spaces.empty())
      require(s.latents.sizes() == spaces.front().latents.sizes(),
              fmt::format("'{}' has shape {}, {} {}", (dir / s.file).string(),
                          fmt::join(s.latents.sizes(), "x"), spaces.front().name,
                          fmt::join(spaces.front().latents.sizes(), "x")));
    s.loss = run.read_method_array(m, "final").to(torch::kFloat64);
    s.delta = run.read_method_array(m, "delta").to(torch::kFloat64);
    require_rows(s.loss, n, "losses/" + m + "_final.npy", dir);
    require_rows(s.delta, n, "losses/" + m + "_delta.npy", dir);
    spaces.push_back(s);
  }
  const std::string bonus_method = cfg.bonus_method.empty() ? methods.front() : cfg.bonus_method;
  require(std::find(methods.begin(), methods.end(), bonus_method) != methods.end(),
          fmt::format("--bonus-method '{}' did not run on '{}'", bonus_method, dir.string()),
          fmt::format("use one of: {}", fmt::join(methods, ", ")));
  const auto& decoder = *model.decoder;
  const auto dataset = run.load_images();
  require_model_fits(model, dataset, "the run's images");
  require_rows(dataset.images, n, "the run's images (manifest.json: images)", dir);
  const torch::Tensor& images = dataset.images;  // (N, P)
  const std::string loss_name = cfg.loss.empty() ? run.method(methods.front()).loss() : cfg.loss;
  const auto loss_kind = solvers::parse_loss_kind(loss_name);

  // The thesis's classifier judges 28 x 28 one-channel images of ten labelled classes.
  const bool labelled = (labels >= 0).logical_and(labels <= 9).all().item<bool>();
  std::string no_classifier;
  if (dataset.channels != 1 || dataset.height != 28 || dataset.width != 28)
    no_classifier = fmt::format("the classifier (the thesis's CNN) takes 28 x 28 one-channel "
                                "images; these are {}x{}x{}",
                                dataset.channels, dataset.height, dataset.width);
  else if (!labelled)
    no_classifier = "the images have no labels (or labels outside 0..9): there is no class to "
                    "compare";
  const double opening_seconds = timer.lap();  // the model, the latents, the images
  std::optional<LoadedClassifier> classifier;
  if (no_classifier.empty()) {
    ClassifierJob job = cfg.classifier_job;
    job.out = cfg.classifier;  // empty: the user's cache
    const auto images_record = run.images();
    job.data.source = images_record.spec.source;
    job.data.data_dir = images_record.spec.data_dir;
    classifier = load_or_train_classifier(job, cfg.train_classifier, job.data.source);
  } else {
    spdlog::warn("success rates left out: {}", no_classifier);
  }
  const double classifier_seconds = timer.lap();  // loaded, or trained on first use

  // The analysis's files (analysis/, MB and MA) land with its record in the manifest
  // (RunFolder::save_manifest); the classifier above, a file of its own, is kept even when the
  // analysis fails.
  const auto staging = run.stage();
  nlohmann::json out;
  out["schema_version"] = kSchemaVersion;
  out["run"] = fs::absolute(dir).string();
  out["images"] = n;
  out["latent_dim"] = spaces[0].latents.size(1);
  out["left_out"] = nlohmann::json::object();  // sections left out, and why
  out["loss"] = loss_name;
  out["config"] = cfg.to_json();
  out["versions"] = run::version_info();
  out["seconds"] = nlohmann::json::object();
  out["seconds"]["opening"] = opening_seconds;
  out["seconds"]["classifier"] = classifier_seconds;

  // Losses of MT (the thesis's initial loss), then the bonus models.
  if (has_mt)
    spaces[0].loss = image_losses(decoder, loss_kind, spaces[0].latents, images, cfg.batch_size);
  const Space mt = spaces[0];  // a copy: spaces grows below (tensors are shared, not copied)
  BonusModels bonus;
  const bool fit_bonus = cfg.bonus.enabled && n >= 5 && has_mt;
  if (!has_mt) out["left_out"]["bonus"] = "the model has no encoder: no MT to map to MN";
  if (fit_bonus) {
    const auto& target = *std::find_if(spaces.begin(), spaces.end(),
                                       [&](const Space& s) { return s.name == bonus_method; });
    bonus = fit_bonus_models(mt.latents, target.latents, images, cfg.bonus, dir / "analysis");
    for (auto [name, kind, latents] :
         {std::tuple{"MB", "bonus", bonus.mb}, std::tuple{"MA", "amortized", bonus.ma}}) {
      if (!latents.defined()) continue;
      Space s{name, kind, std::string("latents/") + name + ".npy", latents.to(torch::kFloat32), {}, {}};
      run.write_latents(name, s.latents);
      s.loss = image_losses(decoder, loss_kind, s.latents, images, cfg.batch_size);
      s.delta = run::delta_percent(mt.loss, s.loss);
      spaces.push_back(s);
    }
  } else if (cfg.bonus.enabled && has_mt) {
    spdlog::warn("bonus models skipped: {} images are too few (at least 5)", n);
  }
  out["seconds"]["bonus_models"] = timer.lap();

  // Latent-space statistics (annexes E and F).
  out["spaces"] = nlohmann::json::array();
  for (const auto& s : spaces) {
    out["spaces"].push_back(s.name);
    out["space_info"][s.name] = {{"kind", s.kind}, {"file", s.file}};
  }
  for (const auto& s : spaces) {
    nlohmann::json j = latent_moments(s.latents);
    j["loss"] = distribution(s.loss, cfg.histogram_bins);
    j["lowest_loss"] = ranked_images(s.loss, true, cfg.top, s.delta.defined() ? s.delta : torch::zeros_like(s.loss), s.loss, labels, indices);
    j["highest_loss"] = ranked_images(s.loss, false, cfg.top, s.delta.defined() ? s.delta : torch::zeros_like(s.loss), s.loss, labels, indices);
    j["lowest_loss_digits"] = lowest_loss_digits(s.loss, labels, cfg.lowest);
    j["per_digit"] = {{"loss", per_digit(s.loss, labels)}};
    if (s.delta.defined()) {
      j["delta_pct"] = distribution(s.delta, cfg.histogram_bins);
      j["delta_loss_correlation"] = delta_loss_correlation(s.delta, s.loss);
      j["best_by_delta"] = ranked_images(s.delta, true, cfg.top, s.delta, s.loss, labels, indices);
      j["worst_by_delta"] = ranked_images(s.delta, false, cfg.top, s.delta, s.loss, labels, indices);
      j["per_digit"]["delta_pct"] = per_digit(s.delta, labels);
      j["delta_reference"] = s.kind == "method" ? "the method's starting point (stored by invert)"
                                                : "MT";
    }
    out["latent_statistics"][s.name] = j;
  }
  out["paired_distances"] = nlohmann::json::array();
  for (size_t a = 0; a < spaces.size(); ++a)
    for (size_t b = a + 1; b < spaces.size(); ++b)
      out["paired_distances"].push_back(paired_distances(spaces[a].name, spaces[a].latents,
                                                         spaces[b].name, spaces[b].latents));
  out["seconds"]["latent_statistics"] = timer.lap();

  // Success rates (section 3.4).
  std::map<std::string, torch::Tensor> decoded_class;
  torch::Tensor original_class;
  if (classifier) {
  auto& net = classifier->net;
  original_class = net->predict(images);  // (N)
  const auto classified = count_success(original_class, original_class, labels);
  out["classifier"] = {{"path", fs::absolute(classifier->path).string()},
                       {"architecture", net->config().to_json()},
                       {"trained_now", classifier->trained_now},
                       {"cached", classifier->cached},
                       {"test_accuracy", classifier->meta.value("test_accuracy", nlohmann::json())},
                       {"test_images", classifier->meta.value("test_images", nlohmann::json())},
                       {"train", classifier->meta.value("train", nlohmann::json())},
                       {"accuracy_on_run_images", classified.to_json()["vs_label"]}};
  std::vector<torch::Tensor> prediction_columns{original_class};
  const DecodeFn decode = [&](const torch::Tensor& y) {
    return decoder.forward(y.to(decoder.dtype()));
  };
  const ClassifyFn classify = [&](const torch::Tensor& x) { return net->predict(x); };
  for (const auto& s : spaces) {
    decoded_class[s.name] = classify_decoded(decode, classify, s.latents, cfg.batch_size);
    prediction_columns.push_back(decoded_class[s.name]);
    out["success_rate"][s.name] = count_success(decoded_class[s.name], original_class, labels).to_json();
  }
  data::write_npy_tensor(dir / "analysis" / "predictions.npy", torch::stack(prediction_columns, 1));
  out["predictions_file"] = "analysis/predictions.npy";
  } else {
    out["left_out"]["success_rate"] = no_classifier;
  }
  out["seconds"]["success_rate"] = timer.lap();

  // Normality (section 3.5).
  for (const auto& s : spaces)
    out["normality"][s.name] = normality_tests(s.latents, cfg.henze_zirkler_max_points);
  out["seconds"]["normality"] = timer.lap();

  // Bonus models on held-out images (section 3.6 and beyond).
  if (fit_bonus) {
    const int64_t lo = bonus.train_rows;
    nlohmann::json held = {{"rows", {lo, n}}, {"images", n - lo}};
    auto mt_held = mt.loss.slice(0, lo);
    for (const auto& s : spaces) {
      auto l = s.loss.slice(0, lo);
      held["mean_loss"][s.name] = mean_sem(l);
      if (classifier)
        held["success_vs_original"][s.name] =
            decoded_class[s.name].slice(0, lo).eq(original_class.slice(0, lo)).sum().item<int64_t>();
      if (s.name == "MT") continue;
      held["share_better_than_MT"][s.name] =
          n > lo ? l.lt(mt_held).to(torch::kFloat64).mean().item<double>() : 0.0;
      held["beats_MT"][s.name] = n > lo && l.mean().item<double>() < mt_held.mean().item<double>();
    }
    out["bonus"] = bonus.report;
    out["bonus"]["source_method"] = bonus_method;
    out["bonus"]["split"] = {{"train_rows", lo}, {"held_out_rows", n - lo},
                             {"rule", "the last validation_split share of the run's images is "
                                      "held out, as Keras's validation_split"}};
    out["bonus"]["held_out"] = held;
  } else {
    out["bonus"] = nullptr;
  }

  // Vector analysis (section 3.6.3): every space against MT.
  if (!has_mt) out["left_out"]["vector_analysis"] = "the model has no encoder: no MT";
  for (const auto& s : spaces) {
    if (s.name == "MT" || !has_mt) continue;
    const auto va = vector_analysis(mt.latents, s.latents);
    const std::string file = "analysis/vectors_" + s.name + ".npy";
    data::write_npy_tensor(dir / file, va.field(mt.latents));
    auto j = va.to_json();
    j["file"] = file;
    const int64_t L = mt.latents.size(1);
    nlohmann::json columns = nlohmann::json::array();
    for (int64_t k = 0; k < L; ++k) columns.push_back(fmt::format("mt_{}", k));
    for (int64_t k = 0; k < L; ++k) columns.push_back(fmt::format("v_{}", k));
    columns.push_back("u_dot_v");
    j["columns"] = columns;
    out["vector_analysis"][s.name] = j;
  }
  out["seconds"]["vector_analysis"] = timer.lap();

  // The VAE's own measure, in nats (likelihood_step.h).
  const int64_t latent_dim = model.latent_dim();
  if (!cfg.likelihood)
    out["left_out"]["likelihood"] = "--no-likelihood";
  else if (latent_dim > 3 && !model.has_encoder())
    out["left_out"]["likelihood"] = fmt::format(
        "the latent is {}-D (the exact grid needs L <= 3) and there is no encoder to sample "
        "an importance-weighted bound from",
        latent_dim);
  else if (!images.eq(0).logical_or(images.eq(1)).all().item<bool>())
    out["left_out"]["likelihood"] = "the images are not binary: the VAE's likelihood is Bernoulli";
  else
    out["likelihood"] = likelihood_section(run, cfg.likelihood_config,
                                           out["spaces"].get<std::vector<std::string>>());
  out["seconds"]["likelihood"] = timer.lap();
  // The certificates `preimage certify` wrote (certify_step.h).
  if (auto certificates = certificates_section(run); !certificates.empty())
    out["certificates"] = certificates;
  out["seconds"]["total"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  util::write_file_atomic(dir / "analysis.json", out.dump(2) + "\n");
  run.set_analysis({"analysis.json", out["spaces"].get<std::vector<std::string>>(),
                    out["seconds"]["total"].get<double>()});
  run.save_manifest();
  remove_likelihood_records(run);
  spdlog::info("analysis written to {}", (dir / "analysis.json").string());
  return out;
}

nlohmann::json analyze_and_print(run::RunFolder& run, AnalyzeConfig config) {
  config.classifier_job.train.seed = config.bonus.seed;
  auto result = analyze_run(run, config);
  analysis::print_analysis(result);
  if (result.contains("certificates")) print_certificates_section(result["certificates"]);
  return result;
}

}  // namespace preimage::pipeline
