#pragma once
// Training the thesis's classifier (section 3.4): Adam and cross-entropy on the binarized MNIST
// training images, test accuracy after each epoch. The binarized images (pixels / 255 > 0.5) are
// what it will judge: decoded images binarized at 0.5.
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/dataset.h"
#include "model/classifier.h"

namespace preimage::train {

struct ClassifierTrainConfig {
  // The lean CNN's recipe: 8 epochs, 3e-3 decayed by 0.6 an epoch, 99.03% test on MNIST in
  // 42 s on 2 cores (6 epochs at 2e-3: 98.88-98.92% over seeds 0-2; a fixed 1e-3 wandered
  // between 98.45% and 98.94% from epoch 4 to 10). The TensorFlow tutorial's, for its wider
  // network (--architecture thesis): 10 epochs at a fixed 1e-3, 99.11% in about 7 minutes.
  int64_t epochs = 8;           // passes over the training images
  int64_t batch_size = 128;     // images per Adam step
  double learning_rate = 3e-3;  // Adam step size of the first epoch (Keras's Adam)
  double lr_decay = 0.6;        // the step size is multiplied by this after each epoch (1: fixed)
  uint64_t seed = 0;            // initialisation and shuffling
  nlohmann::json to_json() const;
};

struct ClassifierEpochLog {
  int64_t epoch = 0;            // 1-based
  double train_loss = 0;        // mean cross-entropy over the epoch's batches
  double train_accuracy = 0;    // share of training images right during the epoch
  double test_accuracy = 0;     // share of evaluation images right after the epoch (NaN if none)
  double seconds = 0;           // wall time of the epoch's steps
  nlohmann::json to_json() const;
};

// Trains `classifier` in place on `train` (images (N, P), labels (N) in 0..classes-1).
// `eval` may be null. Throws UserError when labels are missing (-1) or out of range.
std::vector<ClassifierEpochLog> train_classifier(
    model::Classifier& classifier, const data::Dataset& train, const data::Dataset* eval,
    const ClassifierTrainConfig& config,
    const std::function<void(const ClassifierEpochLog&)>& on_epoch = {});

// Share of `ds`'s images whose predicted class equals their label.
double classifier_accuracy(model::Classifier& classifier, const data::Dataset& ds);

}  // namespace preimage::train
