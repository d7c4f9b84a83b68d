#include "train/classifier_trainer.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "train/adam.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::train {

nlohmann::json ClassifierTrainConfig::to_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"lr_decay", lr_decay},
          {"seed", seed},
          {"optimizer", "adam (keras, epsilon 1e-7)"},
          {"loss", "cross-entropy"},
          {"images", "binarized (pixels / 255 > 0.5)"}};
}

nlohmann::json ClassifierEpochLog::to_json() const {
  return {{"epoch", epoch},
          {"train_loss", train_loss},
          {"train_accuracy", train_accuracy},
          {"test_accuracy", std::isnan(test_accuracy) ? nlohmann::json() : nlohmann::json(test_accuracy)},
          {"seconds", seconds}};
}

namespace {
void check_labels(const data::Dataset& ds, int64_t classes) {
  require(ds.labels.defined() && ds.labels.numel() == ds.size() && ds.size() > 0,
          fmt::format("'{}' has no labels: the classifier needs labelled images", ds.name));
  const int64_t lo = ds.labels.min().item<int64_t>(), hi = ds.labels.max().item<int64_t>();
  require(lo >= 0 && hi < classes,
          fmt::format("'{}' has labels in [{}, {}], expected 0..{}", ds.name, lo, hi, classes - 1),
          "give a labels file with --labels");
}
}  // namespace

double classifier_accuracy(model::Classifier& classifier, const data::Dataset& ds) {
  check_labels(ds, classifier->config().classes);
  auto predicted = classifier->predict(ds.images);
  return predicted.eq(ds.labels).to(torch::kFloat64).mean().item<double>();
}

std::vector<ClassifierEpochLog> train_classifier(
    model::Classifier& classifier, const data::Dataset& train, const data::Dataset* eval,
    const ClassifierTrainConfig& config,
    const std::function<void(const ClassifierEpochLog&)>& on_epoch) {
  require(config.epochs > 0 && config.batch_size > 0 && config.learning_rate > 0,
          "classifier epochs, batch size and learning rate must be positive");
  require(config.lr_decay > 0 && config.lr_decay <= 1,
          fmt::format("the classifier's learning-rate decay must be in (0, 1], got {}",
                      config.lr_decay));
  check_labels(train, classifier->config().classes);
  if (eval) check_labels(*eval, classifier->config().classes);
  KerasAdam adam(classifier->parameters(), AdamSettings{config.learning_rate});
  std::vector<ClassifierEpochLog> logs;
  const int64_t n = train.size();
  const int64_t steps = (n + config.batch_size - 1) / config.batch_size;  // keep the last batch
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    adam.set_learning_rate(config.learning_rate * std::pow(config.lr_decay, epoch - 1));
    classifier->train();
    const auto start = std::chrono::steady_clock::now();
    auto order = torch::randperm(n, torch::kInt64);
    util::Progress progress(fmt::format("classifier epoch {}", epoch), n, "img");
    double loss_sum = 0;
    int64_t right = 0;
    for (int64_t s = 0; s < steps; ++s) {
      auto idx = order.slice(0, s * config.batch_size, std::min((s + 1) * config.batch_size, n));
      auto x = train.images.index_select(0, idx);  // (B, P)
      auto y = train.labels.index_select(0, idx);  // (B)
      auto logits = classifier->forward(x);        // (B, 10)
      auto loss = torch::nn::functional::cross_entropy(logits, y);
      adam.zero_grad();
      loss.backward();
      adam.step();
      const double value = loss.item<double>();
      require(std::isfinite(value),
              fmt::format("classifier training diverged at epoch {} step {}", epoch, s),
              "lower the learning rate (--lr)");
      loss_sum += value * static_cast<double>(idx.size(0));
      right += logits.argmax(1).eq(y).sum().item<int64_t>();
      progress.advance(idx.size(0));
    }
    progress.finish();
    ClassifierEpochLog log;
    log.epoch = epoch;
    log.train_loss = loss_sum / static_cast<double>(n);
    log.train_accuracy = static_cast<double>(right) / static_cast<double>(n);
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.test_accuracy = eval ? classifier_accuracy(classifier, *eval) : std::nan("");
    spdlog::info("classifier_epoch:{} train_loss:{:.4f} train_accuracy:{:.4f} "
                 "test_accuracy:{:.4f} seconds:{:.1f}",
                 epoch, log.train_loss, log.train_accuracy, log.test_accuracy, log.seconds);
    logs.push_back(log);
    if (on_epoch) on_epoch(log);
  }
  classifier->eval();
  return logs;
}

}  // namespace preimage::train
