#include "pipeline/train_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "decoders/model_source.h"
#include "likelihood/quadrature.h"
#include "model/checkpoint.h"
#include "likelihood/importance.h"
#include "util/csv.h"

namespace preimage::pipeline {
namespace {

// Whether the held-out images can change the model (the schedule, early stopping, keep-best).
bool follows_held_out(const train::TrainConfig& c) {
  return c.keep_best || c.lr_patience > 0 || c.stop_patience > 0;
}

// Whether the held-out figure is the exact log-likelihood (else the IWAE bound).
bool exact_held_out(int64_t latent_dim, bool binary) { return latent_dim == 2 && binary; }

// The held-out figure's name for a model with `latent_dim` latents.
std::string held_out_name(int64_t latent_dim, bool binary) {
  return exact_held_out(latent_dim, binary)
             ? fmt::format("log_px_quadrature_{}", kTrainQuadraturePoints)
             : fmt::format("iwae_{}", kIwaeSamples);
}

}  // namespace

double iwae_mean(model::Vae& vae, const torch::Tensor& images, int64_t k, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto model = decoders::vae_model(vae);
  const auto e = vae->encode(images);
  return likelihood::importance_weighted(*model.decoder, images, {e.mean, e.logvar}, k, seed)
      .bound.mean()
      .item<double>();
}

train::HeldOutEvaluator held_out_evaluator(const data::Dataset& images, bool binary,
                                           uint64_t seed) {
  const torch::Tensor x = images.images;  // (N, P)
  return [x, binary, seed](model::Vae& vae) {
    train::HeldOut h;
    const int64_t latent_dim = vae->config().latent_dim;
    h.name = held_out_name(latent_dim, binary);
    if (exact_held_out(latent_dim, binary)) {
      likelihood::QuadratureSettings settings;
      settings.points = kTrainQuadraturePoints;
      const auto model = decoders::vae_model(vae);  // the decoder's weights as they are now
      h.value = likelihood::exact_log_likelihood(*model.decoder, x, settings,
                                                 "the evaluation images (--eval-images)")
                    .log_px.mean()
                    .item<double>();
    } else {
      h.value = iwae_mean(vae, x, kIwaeSamples, seed);
    }
    return h;
  };
}

std::filesystem::path train_state_path(const run::RunFolder& run) {
  return run.path() / "train_state.bin";
}

void train_model(run::RunFolder& run, const TrainStep& step) {
  step.vae.check_sizes("the flags");  // before the images are read
  torch::manual_seed(step.train.seed);
  auto train_ds = data::load_dataset(step.data, data::parse_range(step.train_images));
  std::unique_ptr<data::Dataset> eval_ds;
  if (step.eval_images != "none") {
    data::DataSpec test_spec = step.data;
    test_spec.split = "test";
    auto range = data::parse_range(step.eval_images);
    if (step.eval_images == kDefaultEvalImages)  // the default asks for no more than there are
      range.end = std::min(range.end, data::dataset_size(test_spec));
    eval_ds = std::make_unique<data::Dataset>(data::load_dataset(test_spec, range));
  }
  model::VaeConfig config = step.vae;
  config.image_height = train_ds.height;
  config.image_width = train_ds.width;
  spdlog::info("training VAE ({}) on {} images of {}, at most {} epochs, batch {}, lr {}",
               config.describe(), train_ds.size(), train_ds.name, step.train.epochs,
               step.train.batch_size, step.train.learning_rate);
  torch::manual_seed(step.train.seed);
  model::Vae vae(config);

  const bool binary = step.data.binarize.has_value();
  train::TrainHooks hooks;
  if (eval_ds) hooks.held_out = held_out_evaluator(*eval_ds, binary, step.train.seed + 2);
  hooks.state_file = train_state_path(run);
  hooks.state_key = {{"data", train_ds.name},
                     {"source", step.data.source},
                     {"binarize", data::binarize_name(step.data.binarize)},
                     {"train_images", step.train_images},
                     {"eval_images", step.eval_images},
                     {"held_out", eval_ds ? held_out_name(config.latent_dim, binary) : ""}};
  const auto start = std::chrono::steady_clock::now();
  const auto result = train::train_vae(vae, train_ds, eval_ds.get(), step.train, hooks);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json log_json = nlohmann::json::array();
  util::CsvTable table{{"epoch", "train_elbo", "test_elbo", "held_out", "learning_rate", "seconds",
                        "eval_seconds"},
                       {}};
  for (const auto& l : result.logs) {
    log_json.push_back(l.to_json());
    table.rows.push_back({std::to_string(l.epoch), util::csv_number(l.train_elbo),
                          util::csv_number(l.test_elbo), util::csv_number(l.held_out),
                          util::csv_number(l.learning_rate), util::csv_number(l.seconds),
                          util::csv_number(l.eval_seconds)});
  }
  const nlohmann::json meta = {{"train", step.train.to_json()},
                               {"data", train_ds.name},
                               {"train_images", step.train_images},
                               {"eval_images", step.eval_images},
                               {"selection", result.to_json()},
                               {"epochs", log_json}};
  {
    const auto staging = run.stage();  // the model and its log land with the manifest's record
    model::save_checkpoint(*vae, config.to_json(), meta, run.path() / "model.pt");
    util::write_csv(run.path() / "train_log.csv", table);
  }
  const auto& kept = result.logs.at(result.kept_epoch - 1);
  run::TrainingRecord training;
  training.settings = step.train.to_json();
  training.images = step.train_images;
  training.data = train_ds.name;
  training.final_train_elbo = kept.train_elbo;  // the kept epoch's figures
  if (!std::isnan(kept.test_elbo)) training.final_test_elbo = kept.test_elbo;
  training.selection = result.to_json();
  training.seconds = seconds;
  run.set_model({"model.pt", config.to_json(), training});
  run.save_manifest();
  std::error_code ignored;  // the model is stored: the state is no longer needed
  std::filesystem::remove(hooks.state_file, ignored);
}

bool has_matching_model(const run::RunFolder& run, const TrainStep& step) {
  const auto path = run.path() / "model.pt";
  if (!std::filesystem::exists(path)) return false;
  try {
    const auto record = model::read_checkpoint_record(path);
    auto arch = record.at("architecture");
    auto want = step.vae.to_json();
    for (const char* key : {"image_height", "image_width"}) {  // set from the data when training
      arch.erase(key);
      want.erase(key);
    }
    const auto& meta = record.at("meta");
    // The held-out images choose the epoch kept and the schedule: they matter when those are on.
    const bool same_eval = !follows_held_out(step.train) ||
                           meta.value("eval_images", std::string()) == step.eval_images;
    return arch == want && meta.at("train") == step.train.to_json() &&
           meta.at("train_images") == step.train_images && same_eval;
  } catch (const std::exception&) {
    return false;  // unreadable: train again
  }
}

}  // namespace preimage::pipeline
