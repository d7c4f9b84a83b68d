#pragma once
// The typed records of a run folder's manifest.json: what each step wrote about itself. Each
// key of the manifest is spelled here and in records.cpp only; everything else reads and writes
// these structs through RunFolder.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/range.h"

namespace preimage::run {

namespace fs = std::filesystem;

// Where the run's images come from (written by encode).
struct ImagesRecord {
  data::DataSpec spec;      // source, split, labels, data folder, binarization
  data::ImageRange range;   // positions in the source file
  int64_t count = 0;        // images in the run
  std::string name;         // e.g. "mnist/train"
  int64_t channels = 1, height = 0, width = 0;
};

// How a model was trained (train).
struct TrainingRecord {
  nlohmann::json settings;     // TrainConfig::to_json()
  std::string images;          // range of training images, e.g. "all"
  std::string data;            // e.g. "mnist/train"
  double final_train_elbo = 0;
  std::optional<double> final_test_elbo;
  double seconds = 0;          // wall time of the training
  // The epoch kept (train::TrainResult::to_json(): kept_epoch, best_epoch, best_held_out,
  // held_out, stopped_early); null for models trained before it was recorded.
  nlohmann::json selection;
};

// The model the run uses: preimage's own VAE (train, or run --model), or an imported one
// (--decoder, --weights).
struct ModelRecord {
  fs::path path;               // own VAE: its checkpoint, relative to the run folder or absolute
  nlohmann::json architecture; // own VAE: its architecture (VaeConfig::to_json())
  std::optional<TrainingRecord> training;  // own VAE, when this run trained it
  // An imported model: what decoders::open_model recorded (kind, files and their SHA-256,
  // latent dimension, image shape, ...); null for preimage's own VAE.
  nlohmann::json source;
  bool imported() const { return !source.is_null(); }
};

// What was inverted with which settings (invert, merge).
struct MethodRecord {
  std::string method;          // solver name
  nlohmann::json settings;     // the settings it used, loss, start, chunk size
  double seconds = 0;          // wall time of the inversion
  std::vector<int64_t> curve_images;     // positions whose loss curves are stored
  int64_t images = 0;          // images inverted
  std::vector<std::string> diagnostics;  // losses/<method>_<name>.npy it added
  std::string loss() const;    // settings' loss, "squared-error" by default
};

// A part of a run made by invert --shard k/n.
struct ShardRecord {
  int64_t index = 0, count = 1;  // k, n
  fs::path parent;               // the whole run's folder
  data::ImageRange parent_range; // the whole run's images
};

struct EncodeRecord {
  int64_t images = 0;
  std::string shard;  // "k/n" or ""
};

// What `analyze` and `report` wrote.
struct AnalysisRecord {
  std::string file = "analysis.json";
  std::vector<std::string> spaces;
  double seconds = 0;
};
struct ReportRecord {
  double seconds = 0;
  std::vector<std::string> figures;  // relative to the run folder
  std::vector<std::string> notes;    // what was left out, and why
};

// JSON of each record, and back. from_json throws UserError naming `where` (the manifest and
// the key) when a value is missing or of the wrong type.
nlohmann::json to_json(const ImagesRecord& r);
nlohmann::json to_json(const TrainingRecord& r);
nlohmann::json to_json(const ModelRecord& r);
nlohmann::json to_json(const MethodRecord& r);
nlohmann::json to_json(const ShardRecord& r);
nlohmann::json to_json(const EncodeRecord& r);
nlohmann::json to_json(const AnalysisRecord& r);
nlohmann::json to_json(const ReportRecord& r);
ImagesRecord images_from_json(const nlohmann::json& j, const std::string& where);
ModelRecord model_from_json(const nlohmann::json& j, const std::string& where);
MethodRecord method_from_json(const std::string& method, const nlohmann::json& j,
                              const std::string& where);
ShardRecord shard_from_json(const nlohmann::json& j, const std::string& where);
EncodeRecord encode_from_json(const nlohmann::json& j, const std::string& where);
AnalysisRecord analysis_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace preimage::run
