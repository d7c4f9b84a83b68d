#pragma once
// Where `analyze` gets the classifier behind the success rates: a checkpoint given with
// --classifier, or the one in the user's cache for the run's data set and these settings
// ($XDG_CACHE_HOME/preimage/classifiers/, util/cache_dir.h), trained there on first use. Nothing
// is written beside the run folder.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "model/classifier.h"
#include "train/classifier_trainer.h"

namespace preimage::analysis {

struct ClassifierJob {
  std::filesystem::path out;           // checkpoint to write; empty: the user's cache
  data::DataSpec data;                 // data set and folder (split: train for training, test
                                       // for the reported accuracy)
  std::string architecture = "lean";   // model::ClassifierConfig::preset: lean or thesis
  std::string train_images = "all";    // range of training images
  std::string test_images = "all";     // range of test images for the accuracy
  train::ClassifierTrainConfig train;  // optimisation
  nlohmann::json to_json() const;
};

// Trains on the binarized training split, measures test accuracy, saves the checkpoint to
// `job.out` (or the cache, when empty) with meta {"data", "architecture", "train",
// "train_images", "test_images", "test_accuracy", "log", "seconds", "data_sha256"}. Says what it
// will cost (measured on a few steps) before it starts. Returns that meta with "path" added.
// Throws UserError for a data set without a test split (custom files).
nlohmann::json train_and_save_classifier(const ClassifierJob& job);

struct LoadedClassifier {
  model::Classifier net{nullptr};
  nlohmann::json meta;           // the checkpoint's meta record
  std::filesystem::path path;
  bool trained_now = false;      // trained by this call
  bool cached = false;           // the user's cache's, not a file the user gave
};

// The cache's checkpoint for `job`: classifiers/<data>-<architecture>-<key>.pt, the key the
// SHA-256 of the binarized training and test images and labels and of the settings (job.out,
// the data folder and the seed of nothing else). Loads the data to hash it.
std::filesystem::path cached_classifier_path(const ClassifierJob& job);

// Loads `job.out`, or the cache's checkpoint when `job.out` is empty; when missing and
// `train_if_missing`, trains it first. A classifier trained on another data set than `run_data`
// (e.g. mnist vs fashion-mnist) is a UserError.
LoadedClassifier load_or_train_classifier(const ClassifierJob& job, bool train_if_missing,
                                          const std::string& run_data);

}  // namespace preimage::analysis
