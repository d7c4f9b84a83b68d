#pragma once
// The run folder, a user's main artefact, self-describing so `analyze` and `report` need nothing
// but its path:
//   manifest.json              configuration, seed, versions, timings, files of each step
//   model.pt                   the trained VAE (or the manifest names the checkpoint used)
//   images.json                where the images come from (source, split, range)
//   latents/MT.npy             (N, L) encoder means
//   latents/<method>.npy       (N, L) solutions of each method that ran
//   losses/<method>_{initial,final,delta,iterations,stop_reason}.npy   (N) per image
//   curves/<method>.npy        (K, T+1) loss curves of the chosen images
//   results.csv                index, label, per-method losses, delta %, iterations, stop reason
//   thesis/<method>/           solutions.txt, final_errors.txt, deltas.txt in the thesis's formats
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/dataset.h"
#include "solvers/solver.h"

namespace preimage::run {

namespace fs = std::filesystem;

// What was inverted with which settings, stored in the manifest per method.
struct MethodRecord {
  std::string method;        // solver name
  nlohmann::json settings;   // solver settings, loss, start
  double seconds = 0;        // wall time of the inversion
  std::vector<int64_t> curve_images;  // positions whose loss curves are stored
};

class RunFolder {
 public:
  // Creates (or reuses) `path`, checking it is writable before any long work.
  static RunFolder create(const fs::path& path);
  // Opens an existing run; throws UserError naming the missing manifest.
  static RunFolder open(const fs::path& path);

  const fs::path& path() const { return path_; }
  nlohmann::json& manifest() { return manifest_; }
  const nlohmann::json& manifest() const { return manifest_; }
  void save_manifest() const;  // atomic

  fs::path model_path() const;  // the VAE checkpoint this run uses

  // Records the images of the run (spec + range) and writes indices.npy and labels.npy.
  void write_images(const data::DataSpec& spec, const data::Dataset& ds, data::ImageRange range);
  // Reloads the run's images as recorded (binarized as they were).
  data::Dataset load_images() const;
  torch::Tensor labels() const;  // (N) int64
  torch::Tensor indices() const; // (N) int64

  void write_latents(const std::string& space, const torch::Tensor& latents);  // (N, L)
  torch::Tensor read_latents(const std::string& space) const;  // throws UserError if absent
  bool has_latents(const std::string& space) const;
  std::vector<std::string> methods() const;  // methods recorded in the manifest, in run order

  // Writes a method's solution (latents, per-image arrays, curves, thesis files) and records it.
  void write_solution(const MethodRecord& record, const solvers::Solution& solution);
  // Per-image array of a method: "initial", "final", "delta", "iterations", "stop_reason".
  torch::Tensor read_method_array(const std::string& method, const std::string& what) const;

  // Rewrites results.csv from every method recorded.
  void write_results_csv() const;

 private:
  explicit RunFolder(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
  nlohmann::json manifest_;
};

// Delta % of the thesis: (final - initial) / initial * 100, per image.
torch::Tensor delta_percent(const torch::Tensor& initial, const torch::Tensor& final_loss);

// Versions of preimage, LibTorch and the build, for manifests.
nlohmann::json version_info();

}  // namespace preimage::run
