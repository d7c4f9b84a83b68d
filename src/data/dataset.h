#pragma once
// Image data sets: MNIST (fetched by scripts/setup.sh), Fashion-MNIST (Debian's
// dataset-fashion-mnist), or any IDX / .npy file a user points to.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/range.h"

namespace preimage::data {

// Where the images come from.
struct DataSpec {
  // "mnist", "fashion-mnist", or a path to an IDX images file or a .npy array (N, H, W) / (N, H*W).
  std::string source = "mnist";
  std::string split = "train";  // "train" or "test" (named data sets only)
  std::string labels_path;      // labels IDX for a custom images file (optional)
  std::filesystem::path data_dir;  // folder holding mnist/ (default: the build's data folder)
  // Pixels above this threshold become 1, the others 0 (the thesis: x / 255 > 0.5); none: the
  // grey levels are kept (scaled to [0, 1]).
  std::optional<double> binarize = 0.5;
  // (H, W) or (C, H, W) of the rows of a flat (N, P) .npy file; empty: square, one channel.
  std::vector<int64_t> image_shape;
};

// "0.5" -> 0.5, "none" -> no binarization; throws UserError for anything else or a threshold
// outside [0, 1).
std::optional<double> parse_binarize(const std::string& text);
std::string binarize_name(const std::optional<double>& threshold);  // "0.5" or "none"
// "28,28" or "3,32,32" (also with x); throws UserError otherwise.
std::vector<int64_t> parse_image_shape(const std::string& text);

struct Dataset {
  std::string name;               // e.g. "mnist/train"
  torch::Tensor images;           // (N, C*H*W) float32 in [0, 1], channels first
  torch::Tensor labels;           // (N) int64, -1 where unknown
  torch::Tensor indices;          // (N) int64: position of each image in its source file
  int64_t channels = 1, height = 28, width = 28;
  int64_t source_size = 0;        // images in the whole source file
  int64_t size() const { return images.size(0); }
  int64_t pixels() const { return channels * height * width; }
};

// The data folder scripts/setup.sh fills (compiled in; overridable with PREIMAGE_DATA_DIR).
std::filesystem::path default_data_dir();

// The names accepted by DataSpec::source besides file paths.
std::vector<std::string> known_datasets();

// Loads `range` of the data set: IDX (N, H, W); .npy (N, H, W), (N, C, H, W), or (N, P) with
// spec.image_shape (or square). Throws UserError naming the file for a missing folder (with the
// command that fetches it), a corrupt file, images and labels of different counts, NaN or values
// outside [0, 1] (floats) .
Dataset load_dataset(const DataSpec& spec, ImageRange range = {});

// Number of images the data set holds (loads the file, checking it as load_dataset does).
int64_t dataset_size(const DataSpec& spec);

// The thesis's binarization: pixels / 255 > threshold -> 1, else 0. Input uint8 or float in
// [0, 1].
torch::Tensor binarize(const torch::Tensor& images, double threshold = 0.5);

// Throws UserError naming `what` if `images` holds NaN/inf or values outside [0, 1].
void check_pixels(const torch::Tensor& images, const std::string& what);

}  // namespace preimage::data
