#include "pipeline/train_step.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "util/csv.h"

namespace preimage::pipeline {

void train_model(run::RunFolder& run, const TrainStep& step) {
  step.vae.check_sizes("the flags");  // before the images are read
  torch::manual_seed(step.train.seed);
  auto train_ds = data::load_dataset(step.data, data::parse_range(step.train_images));
  std::unique_ptr<data::Dataset> eval_ds;
  if (step.eval_images != "none") {
    data::DataSpec test_spec = step.data;
    test_spec.split = "test";
    eval_ds = std::make_unique<data::Dataset>(
        data::load_dataset(test_spec, data::parse_range(step.eval_images)));
  }
  model::VaeConfig config = step.vae;
  config.image_height = train_ds.height;
  config.image_width = train_ds.width;
  spdlog::info("training VAE ({}) on {} images of {}, {} epochs, batch {}, lr {}",
               config.describe(), train_ds.size(), train_ds.name, step.train.epochs,
               step.train.batch_size, step.train.learning_rate);
  torch::manual_seed(step.train.seed);
  model::Vae vae(config);
  const auto start = std::chrono::steady_clock::now();
  auto logs = train::train_vae(vae, train_ds, eval_ds.get(), step.train);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json log_json = nlohmann::json::array();
  util::CsvTable table{{"epoch", "train_elbo", "test_elbo", "seconds"}, {}};
  for (const auto& l : logs) {
    log_json.push_back(l.to_json());
    table.rows.push_back({std::to_string(l.epoch), util::csv_number(l.train_elbo),
                          util::csv_number(l.test_elbo), util::csv_number(l.seconds)});
  }
  const nlohmann::json meta = {{"train", step.train.to_json()},
                               {"data", train_ds.name},
                               {"train_images", step.train_images},
                               {"epochs", log_json}};
  {
    const auto staging = run.stage();  // the model and its log land with the manifest's record
    model::save_checkpoint(*vae, config.to_json(), meta, run.path() / "model.pt");
    util::write_csv(run.path() / "train_log.csv", table);
  }
  run::TrainingRecord training;
  training.settings = step.train.to_json();
  training.images = step.train_images;
  training.data = train_ds.name;
  training.final_train_elbo = logs.back().train_elbo;
  if (!std::isnan(logs.back().test_elbo)) training.final_test_elbo = logs.back().test_elbo;
  training.seconds = seconds;
  run.set_model({"model.pt", config.to_json(), training});
  run.save_manifest();
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
    return arch == want && record.at("meta").at("train") == step.train.to_json() &&
           record.at("meta").at("train_images") == step.train_images;
  } catch (const std::exception&) {
    return false;  // unreadable: train again
  }
}

}  // namespace preimage::pipeline
