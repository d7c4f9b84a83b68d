#pragma once
// Regression training of a small Mlp with Adam on the mean squared error, as the thesis trains its
// bonus model MB (section 3.6: Keras fit, 100 epochs, batch 32, validation_split 0.2): the last
// `validation_split` share of the rows is held out before any shuffling (Keras's rule), the rest
// is shuffled every epoch, the last partial batch is kept.
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/mlp.h"

namespace preimage::train {

struct RegressionConfig {
  int64_t epochs = 100;           // the thesis's MB
  int64_t batch_size = 32;        // the thesis's MB
  double learning_rate = 1e-3;    // Adam step size (Keras's default)
  double validation_split = 0.2;  // share of rows held out, taken from the end (Keras)
  uint64_t seed = 0;              // shuffling (initialisation is the caller's)
  nlohmann::json to_json() const;
};

struct RegressionEpochLog {
  int64_t epoch = 0;         // 1-based
  double train_mse = 0;      // mean of the epoch's batch losses, weighted by batch size
  double validation_mse = 0; // MSE on the held-out rows after the epoch (NaN if none)
  nlohmann::json to_json() const;
};

// Rows [0, train_rows) train, [train_rows, N) validate: train_rows = N - floor(N * split).
int64_t training_rows(int64_t rows, double validation_split);

// Trains `model` in place to map inputs (N, in) to targets (N, out). Throws UserError when the
// shapes disagree or fewer than one training row remains.
std::vector<RegressionEpochLog> train_regression(
    model::Mlp& model, const torch::Tensor& inputs, const torch::Tensor& targets,
    const RegressionConfig& config,
    const std::function<void(const RegressionEpochLog&)>& on_epoch = {});

// Mean squared error of `model` on (inputs, targets), no gradients.
double regression_mse(model::Mlp& model, const torch::Tensor& inputs, const torch::Tensor& targets);

}  // namespace preimage::train
