#include "train/bonus_trainer.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "train/adam.h"
#include "util/error.h"
#include "util/progress.h"

namespace preimage::train {

nlohmann::json RegressionConfig::to_json() const {
  return {{"epochs", epochs},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"validation_split", validation_split},
          {"seed", seed},
          {"optimizer", "adam (keras, epsilon 1e-7)"},
          {"loss", "mse"}};
}

nlohmann::json RegressionEpochLog::to_json() const {
  return {{"epoch", epoch},
          {"train_mse", train_mse},
          {"validation_mse",
           std::isnan(validation_mse) ? nlohmann::json() : nlohmann::json(validation_mse)}};
}

int64_t training_rows(int64_t rows, double validation_split) {
  return rows - static_cast<int64_t>(std::floor(static_cast<double>(rows) * validation_split));
}

double regression_mse(model::Mlp& model, const torch::Tensor& inputs, const torch::Tensor& targets) {
  torch::NoGradGuard no_grad;
  if (inputs.size(0) == 0) return std::nan("");
  return torch::mse_loss(model->forward(inputs), targets).item<double>();
}

std::vector<RegressionEpochLog> train_regression(
    model::Mlp& model, const torch::Tensor& inputs, const torch::Tensor& targets,
    const RegressionConfig& config,
    const std::function<void(const RegressionEpochLog&)>& on_epoch) {
  require(config.epochs > 0 && config.batch_size > 0 && config.learning_rate > 0,
          "regression epochs, batch size and learning rate must be positive");
  require(config.validation_split >= 0 && config.validation_split < 1,
          fmt::format("validation split {} is outside [0, 1)", config.validation_split));
  require(inputs.dim() == 2 && targets.dim() == 2 && inputs.size(0) == targets.size(0),
          fmt::format("regression inputs {} and targets {} must be (N, in) and (N, out)",
                      fmt::join(inputs.sizes(), "x"), fmt::join(targets.sizes(), "x")));
  require(inputs.size(1) == model->shape().input && targets.size(1) == model->shape().output,
          fmt::format("the model maps {} -> {} features, the data {} -> {}", model->shape().input,
                      model->shape().output, inputs.size(1), targets.size(1)));
  const int64_t n = training_rows(inputs.size(0), config.validation_split);
  require(n >= 1, fmt::format("{} rows leave no training rows after a {} validation split",
                              inputs.size(0), config.validation_split));
  auto x_train = inputs.slice(0, 0, n).to(torch::kFloat32), y_train = targets.slice(0, 0, n).to(torch::kFloat32);
  auto x_val = inputs.slice(0, n).to(torch::kFloat32), y_val = targets.slice(0, n).to(torch::kFloat32);

  auto generator = at::detail::createCPUGenerator(config.seed);
  KerasAdam adam(model->parameters(), AdamSettings{config.learning_rate});
  std::vector<RegressionEpochLog> logs;
  const int64_t steps = (n + config.batch_size - 1) / config.batch_size;
  util::Progress progress("regression", config.epochs, "epoch");
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    model->train();
    auto order = torch::randperm(n, generator, torch::kInt64);
    double sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      auto idx = order.slice(0, s * config.batch_size, std::min((s + 1) * config.batch_size, n));
      auto loss = torch::mse_loss(model->forward(x_train.index_select(0, idx)),
                                  y_train.index_select(0, idx));
      adam.zero_grad();
      loss.backward();
      adam.step();
      sum += loss.item<double>() * static_cast<double>(idx.size(0));
    }
    RegressionEpochLog log;
    log.epoch = epoch;
    log.train_mse = sum / static_cast<double>(n);
    require(std::isfinite(log.train_mse),
            fmt::format("regression training diverged at epoch {}", epoch),
            "lower the learning rate");
    log.validation_mse = regression_mse(model, x_val, y_val);
    logs.push_back(log);
    progress.set_postfix(fmt::format("train_mse {:.5f} val_mse {:.5f}", log.train_mse,
                                     log.validation_mse));
    progress.advance();
    if (on_epoch) on_epoch(log);
  }
  progress.finish();
  model->eval();
  return logs;
}

}  // namespace preimage::train
