#pragma once
// The run folder, a user's main artefact, self-describing so that `analyze` and `report` need
// nothing but its path:
//   manifest.json              configuration, seed, versions, timings: one record per step
//                              (records.h)
//   model.pt, train_log.csv    the trained VAE (or the manifest names the checkpoint used)
//   indices.npy, labels.npy    which images (positions in the source file) and their labels
//   latents/MT.npy             (N, L) encoder means
//   latents/<method>.npy       (N, L) solutions of each method that ran
//   losses/<method>_{initial,final,delta,iterations,stop_reason,left_box}.npy   (N) per image,
//                              and the method's diagnostics (losses/<method>_<name>.npy)
//   curves/<method>.npy        (K, T+1) loss curves of the chosen images
//   results.csv                index, label, per-method losses, delta %, iterations, stop reason
//   thesis/<method>/           solutions.txt, final_errors.txt, deltas.txt in the thesis's formats
//   summary.json, analysis.json, analysis/*.npy, figures/, report.html, report.md
//   likelihood.json, likelihood/*.npy   the likelihood section (pipeline/likelihood_step.h)
//   losses/<method>_{lower_bound,optimum,gap,certified,...}.npy, losses/<method>_certificate.json
//                              a certificate of the method's solutions (pipeline/certify_step.h)
//   train_state.bin            a training in progress, after each epoch (train/train_state.h)
//   .lock                      the folder's lock (folder_lock.h): one writer at a time
//   partial/<method>/          the chunks of an inversion solved so far (partial_inversion.h);
//   partial/certify_<method>/  the blocks of a certificate
// A step's files land together: RunFolder's writers stage them as temporaries, and
// save_manifest() renames them all, the manifest last (through the journal .commit, which the
// next command finishes if a kill interrupts the renames).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/dataset.h"
#include "run/folder_lock.h"
#include "run/records.h"
#include "solvers/solver.h"
#include "util/atomic_file.h"

namespace preimage::run {

namespace fs = std::filesystem;

class RunFolder {
 public:
  // Creates (or reuses) `path`, checking it is writable before any long work, and locks it for
  // writing.
  static RunFolder create(const fs::path& path);
  // Opens an existing run, locked for `access` (a reader that writes after all upgrades its
  // lock); throws UserError naming the missing or corrupt manifest, or the process that holds
  // the folder. The process's first writer of a folder finishes a commit a kill interrupted and
  // removes the temporaries of processes that are gone.
  static RunFolder open(const fs::path& path, Access access = Access::kWrite);

  const fs::path& path() const { return path_; }
  // Commits the step: the files staged since the last save, then the manifest, renamed into
  // place together. On a failure nothing is renamed, the temporaries are removed, and the
  // manifest in memory is the saved one again.
  void save_manifest();
  // While the returned scope lives, this thread's atomic writes (into the run or elsewhere) are
  // staged too, to land with the next save_manifest(); RunFolder's own writers stage anyway.
  [[nodiscard]] std::unique_ptr<util::StagingScope> stage();
  // Drops what was staged since the last save (the files and the manifest's changes).
  void discard_staged();
  // Where `relative` is read from: its staged temporary when this step wrote it, else the file.
  fs::path file(const fs::path& relative) const;
  // Upgrades a read lock to a write lock (throws UserError naming the process that holds the
  // folder); call before writing into the run other than through RunFolder.
  void require_write();
  // The whole manifest, for display (the report's appendix); read records through the typed
  // accessors below.
  const nlohmann::json& manifest() const { return manifest_; }

  // ---- the images (encode) ----
  bool has_images() const;
  ImagesRecord images() const;  // throws UserError when the run records none
  // Records the images of the run (spec + range) and writes indices.npy and labels.npy.
  void write_images(const data::DataSpec& spec, const data::Dataset& ds, data::ImageRange range);
  // Records images whose indices.npy and labels.npy the caller writes (shards, merges).
  void set_images(const ImagesRecord& record);
  // Reloads the run's images as recorded (binarized as they were).
  data::Dataset load_images() const;
  torch::Tensor labels() const;   // (N) int64
  torch::Tensor indices() const;  // (N) int64
  void set_encode(const EncodeRecord& record);
  std::optional<EncodeRecord> encode() const;

  // ---- the model (train, run --model) ----
  bool has_model() const;
  ModelRecord model() const;  // throws UserError when the run records none
  void set_model(const ModelRecord& record);
  // The checkpoint of preimage's own VAE this run uses (absolute or under the folder); throws
  // UserError for a run of an imported model.
  fs::path model_path() const;

  // ---- the inversions (invert, merge) ----
  std::vector<std::string> methods() const;  // methods recorded, in run order
  MethodRecord method(const std::string& name) const;  // throws UserError when not recorded
  void write_latents(const std::string& space, const torch::Tensor& latents);  // (N, L)
  torch::Tensor read_latents(const std::string& space) const;  // throws UserError if absent
  bool has_latents(const std::string& space) const;
  // Writes a method's solution (latents, per-image arrays, curves, thesis files) and records it
  // (its image count and diagnostics from the solution).
  void write_solution(MethodRecord record, const solvers::Solution& solution);
  // Per-image array of a method: "initial", "final", "delta", "iterations", "stop_reason",
  // "left_box", or a diagnostic's name.
  torch::Tensor read_method_array(const std::string& method, const std::string& what) const;
  bool has_method_array(const std::string& method, const std::string& what) const;
  // Rewrites results.csv from every method recorded.
  void write_results_csv();

  // ---- shards and merges ----
  std::optional<ShardRecord> shard() const;
  void set_shard(const ShardRecord& record);
  void set_merged_from(const std::vector<fs::path>& parts);

  // ---- the later steps ----
  void set_run_config(const nlohmann::json& config);  // the resolved configuration of `run`
  std::optional<AnalysisRecord> analysis() const;
  void set_analysis(const AnalysisRecord& record);
  void set_report(const ReportRecord& record);
  // A certificate of `method`'s solutions (pipeline/certify_step.h): its files, relative to the
  // run folder, and its summary.
  void set_certificate(const std::string& method, const std::vector<std::string>& files,
                       const nlohmann::json& summary);

 private:
  explicit RunFolder(fs::path path) : path_(std::move(path)) {}
  std::string where(const std::string& key) const;  // "RUN/manifest.json, key"
  // Takes the folder's lock for `access`; a first writer recovers and cleans the folder.
  void lock(Access access);
  void remove_stale_temporaries() const;  // of processes that are gone, said in the log
  fs::path path_;
  nlohmann::json manifest_;
  nlohmann::json saved_manifest_;  // as on disk: what discard_staged() returns to
  std::shared_ptr<FolderLock> lock_;
  std::shared_ptr<util::StagedFiles> staged_ = std::make_shared<util::StagedFiles>();
};

// Delta % of the thesis: (final - initial) / initial * 100, per image.
torch::Tensor delta_percent(const torch::Tensor& initial, const torch::Tensor& final_loss);

// Versions of preimage, LibTorch and the build, for manifests.
nlohmann::json version_info();

}  // namespace preimage::run
