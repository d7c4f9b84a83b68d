#include "pipeline/train_step.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "util/csv.h"

namespace preimage::pipeline {

void train_model(run::RunFolder& run, const TrainStep& step) {
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
  model::save_checkpoint(*vae, config.to_json(), meta, run.path() / "model.pt");
  util::write_csv(run.path() / "train_log.csv", table);
  run.manifest()["model"] = {{"path", "model.pt"},
                             {"architecture", config.to_json()},
                             {"train", step.train.to_json()},
                             {"train_images", step.train_images},
                             {"data", train_ds.name},
                             {"final_train_elbo", logs.back().train_elbo},
                             {"final_test_elbo", logs.back().to_json()["test_elbo"]},
                             {"seconds", seconds}};
  run.save_manifest();
}

}  // namespace preimage::pipeline
