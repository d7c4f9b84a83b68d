#include "analysis/classifier_source.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::analysis {
namespace fs = std::filesystem;

nlohmann::json ClassifierJob::to_json() const {
  return {{"out", out.string()},
          {"data", data.source},
          {"train_images", train_images},
          {"test_images", test_images},
          {"train", train.to_json()}};
}

nlohmann::json train_and_save_classifier(const ClassifierJob& job) {
  const auto known = data::known_datasets();
  require(std::find(known.begin(), known.end(), job.data.source) != known.end(),
          fmt::format("cannot train the classifier on '{}': it needs a named data set with a "
                      "test split", job.data.source),
          "train it on mnist (preimage train-classifier) and pass --classifier PATH");
  if (job.out.has_parent_path()) util::ensure_writable_dir(job.out.parent_path());
  data::DataSpec train_spec = job.data, test_spec = job.data;
  train_spec.split = "train";
  test_spec.split = "test";
  train_spec.binarize = test_spec.binarize = 0.5;  // it judges binarized decoded images
  const auto train_set = data::load_dataset(train_spec, data::parse_range(job.train_images));
  const auto test_set = data::load_dataset(test_spec, data::parse_range(job.test_images));
  spdlog::info("training the classifier on {} binarized images of {} ({} epochs, batch {})",
               train_set.size(), train_set.name, job.train.epochs, job.train.batch_size);
  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(job.train.seed);
  model::Classifier net(model::ClassifierConfig{train_set.height, train_set.width, 10});
  nlohmann::json log = nlohmann::json::array();
  const auto logs = train::train_classifier(net, train_set, &test_set, job.train,
                                            [&](const auto& l) { log.push_back(l.to_json()); });
  const double accuracy = logs.back().test_accuracy;
  nlohmann::json meta = {
      {"data", job.data.source},
      {"train", job.train.to_json()},
      {"train_images", train_set.size()},
      {"test_images", test_set.size()},
      {"test_accuracy", accuracy},
      {"log", log},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  model::save_checkpoint(*net, net->config().to_json(), meta, job.out);
  spdlog::info("classifier test_accuracy:{:.4f} on {} test images, saved to {}", accuracy,
               test_set.size(), job.out.string());
  return meta;
}

fs::path default_classifier_path(const fs::path& run_folder) {
  auto abs = fs::absolute(run_folder).lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();  // trailing slash
  return abs.parent_path() / "classifier.pt";
}

LoadedClassifier load_or_train_classifier(const ClassifierJob& job, bool train_if_missing,
                                          const std::string& run_data) {
  LoadedClassifier out;
  out.path = job.out;
  if (!fs::exists(job.out)) {
    require(train_if_missing, fmt::format("classifier checkpoint '{}' does not exist",
                                          job.out.string()),
            "train one with preimage train-classifier --out " + job.out.string());
    train_and_save_classifier(job);
    out.trained_now = true;
  }
  out.net = model::load_classifier(job.out);
  out.meta = model::read_checkpoint_record(job.out).value("meta", nlohmann::json::object());
  const std::string trained_on = out.meta.value("data", "");
  const auto known = data::known_datasets();
  const bool run_named = std::find(known.begin(), known.end(), run_data) != known.end();
  require(!run_named || trained_on.empty() || trained_on == run_data,
          fmt::format("classifier '{}' was trained on {}, but the run's images come from {}",
                      job.out.string(), trained_on, run_data),
          fmt::format("train one on {} (preimage train-classifier --data {} --out PATH) and pass "
                      "--classifier PATH", run_data, run_data));
  return out;
}

}  // namespace preimage::analysis
