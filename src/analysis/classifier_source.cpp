#include "analysis/classifier_source.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "util/atomic_file.h"
#include "util/cache_dir.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/sha256.h"

namespace preimage::analysis {
namespace fs = std::filesystem;
namespace {

// The binarized images a classifier learns from and is judged on, and their digest.
struct ClassifierData {
  data::Dataset train, test;
  std::string sha256;  // of both sets' images (as bytes 0/1) and labels
};

ClassifierData load_classifier_data(const ClassifierJob& job) {
  const auto known = data::known_datasets();
  require(std::find(known.begin(), known.end(), job.data.source) != known.end(),
          fmt::format("cannot train the classifier on '{}': it needs a named data set with a "
                      "test split", job.data.source),
          "train it on mnist (preimage train-classifier) and pass --classifier PATH");
  data::DataSpec train_spec = job.data, test_spec = job.data;
  train_spec.split = "train";
  test_spec.split = "test";
  train_spec.binarize = test_spec.binarize = 0.5;  // it judges binarized decoded images
  ClassifierData d{data::load_dataset(train_spec, data::parse_range(job.train_images)),
                   data::load_dataset(test_spec, data::parse_range(job.test_images)), ""};
  util::Sha256 h;
  for (const auto* set : {&d.train, &d.test}) {
    const auto pixels = set->images.gt(0.5).to(torch::kUInt8).contiguous();
    const auto labels = set->labels.to(torch::kInt64).contiguous();
    const std::string head = fmt::format("{} {}x{}x{}\n", set->size(), set->channels,
                                         set->height, set->width);
    h.add(head.data(), head.size());
    h.add(pixels.data_ptr(), static_cast<size_t>(pixels.numel()));
    h.add(labels.data_ptr(), static_cast<size_t>(labels.numel()) * sizeof(int64_t));
  }
  d.sha256 = h.finish();
  return d;
}

// What decides a cached classifier's weights besides the data: the architecture and the
// optimisation (the seed included).
std::string settings_key(const ClassifierJob& job) {
  return nlohmann::json{{"architecture", job.architecture}, {"train", job.train.to_json()}}.dump();
}

fs::path cache_path(const ClassifierJob& job, const ClassifierData& d) {
  util::Sha256 h;
  const std::string settings = settings_key(job);
  h.add(d.sha256.data(), d.sha256.size());
  h.add(settings.data(), settings.size());
  std::string source = job.data.source;
  std::replace(source.begin(), source.end(), '/', '_');
  return util::user_cache_dir() / "classifiers" /
         fmt::format("{}-{}-{}.pt", source, job.architecture, h.finish().substr(0, 16));
}

// Seconds the training will take, from three steps of a throwaway network of the same
// architecture on the first images (about a second): the notice before a long step.
double estimated_seconds(const model::ClassifierConfig& config, const data::Dataset& train,
                         const data::Dataset& test, const train::ClassifierTrainConfig& t) {
  const int64_t batch = std::min<int64_t>(t.batch_size, train.size());
  model::Classifier scratch(config);
  torch::optim::Adam adam(scratch->parameters(), torch::optim::AdamOptions(t.learning_rate));
  const auto x = train.images.slice(0, 0, batch);
  const auto y = train.labels.slice(0, 0, batch);
  auto step = [&] {
    adam.zero_grad();
    torch::nn::functional::cross_entropy(scratch->forward(x), y).backward();
    adam.step();
  };
  step();  // the first step allocates
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < 3; ++k) step();
  const double per_step = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 3;
  const double steps = static_cast<double>((train.size() + batch - 1) / batch);
  // Prediction on the test images after each epoch: about a third of a training step's cost.
  const double per_epoch = per_step * (steps + static_cast<double>(test.size()) / static_cast<double>(batch) / 3);
  return per_epoch * static_cast<double>(t.epochs);
}

nlohmann::json train_and_save(const ClassifierJob& job, const ClassifierData& d, const fs::path& out) {
  if (out.has_parent_path()) util::ensure_writable_dir(out.parent_path());
  const auto config = model::ClassifierConfig::preset(job.architecture, d.train.height, d.train.width);
  spdlog::info("classifier: training the {} CNN on {} binarized images of {} ({} epochs, batch "
               "{}): about {}; saved to {}{}",
               job.architecture, d.train.size(), d.train.name, job.train.epochs,
               job.train.batch_size,
               util::format_duration(estimated_seconds(config, d.train, d.test, job.train)),
               out.string(),
               job.out.empty() ? " (once per data set; --classifier FILE brings one)" : "");
  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(job.train.seed);
  model::Classifier net(config);
  nlohmann::json log = nlohmann::json::array();
  const auto logs = train::train_classifier(net, d.train, &d.test, job.train,
                                            [&](const auto& l) { log.push_back(l.to_json()); });
  const double accuracy = logs.back().test_accuracy;
  nlohmann::json meta = {
      {"data", job.data.source},
      {"architecture", job.architecture},
      {"train", job.train.to_json()},
      {"train_images", d.train.size()},
      {"test_images", d.test.size()},
      {"test_accuracy", accuracy},
      {"data_sha256", d.sha256},
      {"log", log},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  model::save_checkpoint(*net, net->config().to_json(), meta, out);
  spdlog::info("classifier test_accuracy:{:.4f} on {} test images, saved to {}", accuracy,
               d.test.size(), out.string());
  meta["path"] = out.string();
  return meta;
}

}  // namespace

nlohmann::json ClassifierJob::to_json() const {
  return {{"out", out.empty() ? "(the user's cache)" : out.string()},
          {"data", data.source},
          {"architecture", architecture},
          {"train_images", train_images},
          {"test_images", test_images},
          {"train", train.to_json()}};
}

nlohmann::json train_and_save_classifier(const ClassifierJob& job) {
  (void)model::ClassifierConfig::preset(job.architecture, 28, 28);  // the name, before any work
  const auto d = load_classifier_data(job);
  return train_and_save(job, d, job.out.empty() ? cache_path(job, d) : job.out);
}

fs::path cached_classifier_path(const ClassifierJob& job) {
  return cache_path(job, load_classifier_data(job));
}

LoadedClassifier load_or_train_classifier(const ClassifierJob& job, bool train_if_missing,
                                          const std::string& run_data) {
  LoadedClassifier out;
  out.cached = job.out.empty();
  std::optional<ClassifierData> d;
  if (out.cached) {
    (void)model::ClassifierConfig::preset(job.architecture, 28, 28);  // the name, before any work
    d = load_classifier_data(job);
    out.path = cache_path(job, *d);
  } else {
    out.path = job.out;
  }
  if (!fs::exists(out.path)) {
    require(train_if_missing || out.cached,
            fmt::format("classifier checkpoint '{}' does not exist", out.path.string()),
            "train one with preimage train-classifier --out " + out.path.string());
    require(train_if_missing,
            fmt::format("no classifier for {} with these settings in the cache ('{}' does not "
                        "exist) and --no-train-classifier", job.data.source, out.path.string()),
            "drop --no-train-classifier, or give --classifier FILE");
    train_and_save(job, d ? *d : load_classifier_data(job), out.path);
    out.trained_now = true;
  } else if (out.cached) {
    spdlog::info("classifier: the cached one for {} ({})", job.data.source, out.path.string());
  }
  out.net = model::load_classifier(out.path);
  out.meta = model::read_checkpoint_record(out.path).value("meta", nlohmann::json::object());
  const std::string trained_on = out.meta.value("data", "");
  const auto known = data::known_datasets();
  const bool run_named = std::find(known.begin(), known.end(), run_data) != known.end();
  require(!run_named || trained_on.empty() || trained_on == run_data,
          fmt::format("classifier '{}' was trained on {}, but the run's images come from {}",
                      out.path.string(), trained_on, run_data),
          fmt::format("train one on {} (preimage train-classifier --data {} --out PATH) and pass "
                      "--classifier PATH", run_data, run_data));
  return out;
}

}  // namespace preimage::analysis
