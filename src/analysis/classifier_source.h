#pragma once
// Where `analyze` gets the thesis's classifier: a checkpoint given with --classifier, or the
// shared one beside the run folders (runs/classifier.pt for runs/default), trained on first use.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "model/classifier.h"
#include "train/classifier_trainer.h"

namespace preimage::analysis {

struct ClassifierJob {
  std::filesystem::path out = "runs/classifier.pt";  // checkpoint to write
  data::DataSpec data;                 // data set and folder (split: train for training, test
                                       // for the reported accuracy)
  std::string train_images = "all";    // range of training images
  std::string test_images = "all";     // range of test images for the accuracy
  train::ClassifierTrainConfig train;  // optimisation
  nlohmann::json to_json() const;
};

// Trains on the binarized training split, measures test accuracy, saves the checkpoint with
// meta {"data", "train", "train_images", "test_images", "test_accuracy", "log", "seconds"}.
// Returns that meta. Throws UserError for a data set without a test split (custom files).
nlohmann::json train_and_save_classifier(const ClassifierJob& job);

struct LoadedClassifier {
  model::Classifier net{nullptr};
  nlohmann::json meta;           // the checkpoint's meta record
  std::filesystem::path path;
  bool trained_now = false;      // trained by this call
};

// Default classifier path for a run folder: classifier.pt in the run folder's parent.
std::filesystem::path default_classifier_path(const std::filesystem::path& run_folder);

// Loads `job.out`; if missing and `train_if_missing`, trains it first. A classifier trained on
// another data set than `run_data` (e.g. mnist vs fashion-mnist) is a UserError.
LoadedClassifier load_or_train_classifier(const ClassifierJob& job, bool train_if_missing,
                                          const std::string& run_data);

}  // namespace preimage::analysis
