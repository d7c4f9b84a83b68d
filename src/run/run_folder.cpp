#include "run/run_folder.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "data/tensor_io.h"
#include "run/results_table.h"
#include "run/thesis_format.h"
#include "util/atomic_file.h"
#include "util/build_config.h"
#include "util/error.h"

namespace preimage::run {
namespace {
constexpr const char* kManifest = "manifest.json";
constexpr const char* kJournal = ".commit";  // the renames of a commit under way
}  // namespace

torch::Tensor delta_percent(const torch::Tensor& initial, const torch::Tensor& final_loss) {
  return (final_loss - initial) / initial * 100.0;
}

nlohmann::json version_info() {
  return {{"preimage", PREIMAGE_VERSION},
          {"git", PREIMAGE_GIT_DESCRIBE},
          {"libtorch", TORCH_VERSION},
          {"compiler", fmt::format("{} {}", __GNUC__, __GNUC_MINOR__)}};
}

RunFolder RunFolder::create(const fs::path& path) {
  util::ensure_writable_dir(path);
  RunFolder run(path);
  run.lock(Access::kWrite);  // before the manifest is read: no other writer's update is lost
  if (fs::exists(path / kManifest)) {
    run.manifest_ = nlohmann::json::parse(util::read_file(path / kManifest), nullptr, false);
    if (!run.manifest_.is_object()) {  // what it recorded is lost; the files are made again
      spdlog::warn("'{}' is not a run's manifest (corrupt or not a JSON object): starting it afresh",
                   (path / kManifest).string());
      run.manifest_ = nlohmann::json::object();
    }
  } else {
    run.manifest_ = nlohmann::json::object();
  }
  run.saved_manifest_ = run.manifest_;
  run.manifest_["versions"] = version_info();
  return run;
}

RunFolder RunFolder::open(const fs::path& path, Access access) {
  require(fs::is_directory(path), fmt::format("run folder '{}' does not exist", path.string()),
          "create one with preimage run --out FOLDER");
  require(fs::exists(path / kManifest),
          fmt::format("'{}' has no manifest.json: not a run folder", path.string()),
          "create one with preimage run --out FOLDER");
  RunFolder run(path);
  run.lock(access);  // before the manifest is read: no other writer's update is lost
  try {
    run.manifest_ = nlohmann::json::parse(util::read_file(path / kManifest));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("'{}' is corrupt: {}", (path / kManifest).string(), e.what()));
  }
  require(run.manifest_.is_object(),
          fmt::format("'{}' is not a run's manifest (a JSON object)", (path / kManifest).string()));
  run.saved_manifest_ = run.manifest_;
  return run;
}

void RunFolder::lock(Access access) {
  lock_ = FolderLock::acquire(path_, access);
  if (lock_->access() == Access::kWrite && lock_->take_first_write()) {
    // This process is the folder's only writer now: finish what a killed writer left.
    if (const auto renamed = util::recover_commit(path_ / kJournal); renamed > 0)
      spdlog::info("{}: finished the commit of a step that a killed process left ({} files)",
                   path_.string(), renamed);
    remove_stale_temporaries();
  }
}

void RunFolder::remove_stale_temporaries() const {
  // The folder's own files and the subfolders a run has, not whatever else lies in the folder
  // (a run written into a folder of other things).
  auto removed = util::remove_stale_temporaries(path_, 0);
  for (const char* sub : {"latents", "losses", "curves", "thesis", "analysis", "figures",
                          "partial", "completion"}) {
    if (!fs::is_directory(path_ / sub)) continue;
    const auto below = util::remove_stale_temporaries(path_ / sub, 2);
    removed.files += below.files;
    removed.bytes += below.bytes;
  }
  if (removed.files > 0)
    spdlog::info("{}: removed {} temporary files ({} bytes) of processes that are gone",
                 path_.string(), removed.files, removed.bytes);
}

void RunFolder::require_write() {
  if (lock_->access() == Access::kWrite) return;
  lock_->upgrade();
  if (!lock_->take_first_write()) return;
  // A commit finished now would change files this command has read: start over rather than mix.
  require(util::recover_commit(path_ / kJournal) == 0,
          fmt::format("run folder '{}' held the interrupted commit of a killed process; it is "
                      "finished now", path_.string()),
          "run the command again");
  remove_stale_temporaries();
}

void RunFolder::save_manifest() {
  require_write();
  try {
    {
      util::StagingScope staging(*staged_);
      util::write_file_atomic(path_ / kManifest, manifest_.dump(2) + "\n");
    }
    staged_->commit(path_ / kJournal);
  } catch (...) {
    discard_staged();
    throw;
  }
  saved_manifest_ = manifest_;
}

std::unique_ptr<util::StagingScope> RunFolder::stage() {
  require_write();
  return std::make_unique<util::StagingScope>(*staged_);
}

void RunFolder::discard_staged() {
  staged_->discard();
  manifest_ = saved_manifest_;
}

fs::path RunFolder::file(const fs::path& relative) const {
  const fs::path target = path_ / relative;
  const fs::path temp = staged_->staged(target);
  return temp.empty() ? target : temp;
}

std::string RunFolder::where(const std::string& key) const {
  return fmt::format("{}, '{}'", (path_ / kManifest).string(), key);
}

// ---- images ----

bool RunFolder::has_images() const { return manifest_.contains("images"); }

ImagesRecord RunFolder::images() const {
  require(has_images(), fmt::format("run '{}' records no images", path_.string()),
          "encode images into it first: preimage encode " + path_.string());
  return images_from_json(manifest_["images"], where("images"));
}

void RunFolder::set_images(const ImagesRecord& record) { manifest_["images"] = to_json(record); }

void RunFolder::write_images(const data::DataSpec& spec, const data::Dataset& ds,
                             data::ImageRange range) {
  ImagesRecord r;
  r.spec = spec;
  r.range = range;
  r.count = ds.size();
  r.name = ds.name;
  r.channels = ds.channels;
  r.height = ds.height;
  r.width = ds.width;
  set_images(r);
  const auto staging = stage();
  data::write_npy_tensor(path_ / "indices.npy", ds.indices);
  data::write_npy_tensor(path_ / "labels.npy", ds.labels);
}

data::Dataset RunFolder::load_images() const {
  const auto r = images();
  return data::load_dataset(r.spec, r.range);
}

torch::Tensor RunFolder::labels() const { return data::read_npy_tensor(file("labels.npy")); }
torch::Tensor RunFolder::indices() const { return data::read_npy_tensor(file("indices.npy")); }

void RunFolder::set_encode(const EncodeRecord& record) { manifest_["encode"] = to_json(record); }

std::optional<EncodeRecord> RunFolder::encode() const {
  if (!manifest_.contains("encode")) return std::nullopt;
  return encode_from_json(manifest_["encode"], where("encode"));
}

// ---- model ----

bool RunFolder::has_model() const {
  return manifest_.contains("model") && manifest_["model"].is_object() &&
         (manifest_["model"].contains("path") || manifest_["model"].contains("source"));
}

ModelRecord RunFolder::model() const {
  require(has_model(), fmt::format("run '{}' records no model", path_.string()),
          "run preimage train --out RUN (or preimage run) first");
  return model_from_json(manifest_["model"], where("model"));
}

void RunFolder::set_model(const ModelRecord& record) { manifest_["model"] = to_json(record); }

fs::path RunFolder::model_path() const {
  const auto record = model();
  if (record.imported())
    throw UserError(fmt::format("run '{}' uses an imported model ({}), not a preimage checkpoint",
                                path_.string(), record.source.value("kind", "?")));
  const fs::path p = record.path;
  return p.is_absolute() ? p : path_ / p;
}

// ---- inversions ----

std::vector<std::string> RunFolder::methods() const {
  if (!manifest_.contains("method_order")) return {};
  try {
    return manifest_["method_order"].get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw UserError(fmt::format("{} is not a list of method names", where("method_order")),
                    "the manifest was edited or is corrupt; invert the run again");
  }
}

MethodRecord RunFolder::method(const std::string& name) const {
  require(manifest_.contains("methods") && manifest_["methods"].contains(name),
          fmt::format("run '{}' records no inversion by {}", path_.string(), name),
          "run preimage invert " + path_.string() + " --method " + name);
  return method_from_json(name, manifest_["methods"][name], where("methods/" + name));
}

void RunFolder::write_latents(const std::string& space, const torch::Tensor& latents) {
  const auto staging = stage();
  data::write_npy_tensor(path_ / "latents" / (space + ".npy"), latents.to(torch::kFloat32));
}

bool RunFolder::has_latents(const std::string& space) const {
  return fs::exists(file(fs::path("latents") / (space + ".npy")));
}

torch::Tensor RunFolder::read_latents(const std::string& space) const {
  const fs::path p = file(fs::path("latents") / (space + ".npy"));
  require(fs::exists(p), fmt::format("run '{}' has no latent space '{}' ({} is missing)",
                                     path_.string(), space, p.string()),
          space == "MT" ? "run preimage encode first" : "run preimage invert --method " + space);
  auto latents = data::read_npy_tensor(p);
  require(latents.dim() == 2 && latents.is_floating_point(),
          fmt::format("'{}' should hold an (images x latent dimension) array of floats, it holds "
                      "{} of {}", p.string(), fmt::join(latents.sizes(), "x"),
                      c10::toString(latents.scalar_type())));
  const auto bad = (~torch::isfinite(latents)).any(1).nonzero();
  if (bad.numel() > 0)
    throw UserError(fmt::format("'{}' holds NaN or infinity in {} of its {} rows (the first: row "
                                "{})", p.string(), bad.size(0), latents.size(0),
                                bad[0].item<int64_t>()),
                    space == "MT" ? "run preimage encode again"
                                  : "run preimage invert --method " + space + " again");
  return latents;
}

void RunFolder::write_solution(MethodRecord record, const solvers::Solution& s) {
  const std::string& m = record.method;
  const auto staging = stage();
  write_latents(m, s.latents);
  auto delta = delta_percent(s.initial_loss, s.final_loss);
  const fs::path losses = path_ / "losses";
  data::write_npy_tensor(losses / (m + "_initial.npy"), s.initial_loss.to(torch::kFloat32));
  data::write_npy_tensor(losses / (m + "_final.npy"), s.final_loss.to(torch::kFloat32));
  data::write_npy_tensor(losses / (m + "_delta.npy"), delta.to(torch::kFloat32));
  data::write_npy_tensor(losses / (m + "_iterations.npy"), s.iterations);
  data::write_npy_tensor(losses / (m + "_stop_reason.npy"), s.stop_reason);
  data::write_npy_tensor(losses / (m + "_left_box.npy"), s.left_box);
  for (const auto& [name, values] : s.diagnostics)
    data::write_npy_tensor(losses / (m + "_" + name + ".npy"), values);
  if (s.curves.defined() && s.curves.size(0) > 0)
    data::write_npy_tensor(path_ / "curves" / (m + ".npy"), s.curves);
  write_thesis_files(path_ / "thesis" / m, s.latents, s.final_loss, delta);

  record.images = s.latents.size(0);
  record.diagnostics.clear();
  for (const auto& [name, values] : s.diagnostics) record.diagnostics.push_back(name);
  manifest_["methods"][m] = to_json(record);
  auto order = methods();
  if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  manifest_["method_order"] = order;
}

bool RunFolder::has_method_array(const std::string& method, const std::string& what) const {
  return fs::exists(file(fs::path("losses") / (method + "_" + what + ".npy")));
}

torch::Tensor RunFolder::read_method_array(const std::string& method,
                                           const std::string& what) const {
  const fs::path p = file(fs::path("losses") / (method + "_" + what + ".npy"));
  require(fs::exists(p), fmt::format("run '{}' is missing {}", path_.string(), p.string()),
          "run preimage invert --method " + method + " on it");
  return data::read_npy_tensor(p);
}

void RunFolder::write_results_csv() {
  std::vector<MethodColumns> cols;
  for (const auto& m : methods()) {
    cols.push_back({m, read_method_array(m, "initial"), read_method_array(m, "final"),
                    read_method_array(m, "delta"), read_method_array(m, "iterations"),
                    read_method_array(m, "stop_reason")});
  }
  const auto staging = stage();
  write_results_table(path_ / "results.csv", indices(), labels(), cols);
}

// ---- shards, merges, later steps ----

std::optional<ShardRecord> RunFolder::shard() const {
  if (!manifest_.contains("shard")) return std::nullopt;
  return shard_from_json(manifest_["shard"], where("shard"));
}

void RunFolder::set_shard(const ShardRecord& record) { manifest_["shard"] = to_json(record); }

void RunFolder::set_merged_from(const std::vector<fs::path>& parts) {
  manifest_["merged_from"] = nlohmann::json::array();
  for (const auto& p : parts) manifest_["merged_from"].push_back(fs::absolute(p).string());
}

void RunFolder::set_run_config(const nlohmann::json& config) { manifest_["run_config"] = config; }

std::optional<AnalysisRecord> RunFolder::analysis() const {
  if (!manifest_.contains("analysis")) return std::nullopt;
  return analysis_from_json(manifest_["analysis"], where("analysis"));
}

void RunFolder::set_analysis(const AnalysisRecord& record) {
  manifest_["analysis"] = to_json(record);
}

void RunFolder::set_report(const ReportRecord& record) { manifest_["report"] = to_json(record); }

void RunFolder::set_certificate(const std::string& method, const std::vector<std::string>& files,
                                const nlohmann::json& summary) {
  manifest_["certificates"][method] = {{"files", files},
                                       {"images", summary.at("images")},
                                       {"certified", summary.at("certified")},
                                       {"config", summary.at("config")},
                                       {"seconds", summary.at("seconds")}};
}

}  // namespace preimage::run
