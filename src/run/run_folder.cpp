#include "run/run_folder.h"

#include <fmt/format.h>

#include "data/tensor_io.h"
#include "run/results_table.h"
#include "run/thesis_format.h"
#include "util/atomic_file.h"
#include "util/build_config.h"
#include "util/error.h"

namespace preimage::run {
namespace {
constexpr const char* kManifest = "manifest.json";
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
  if (fs::exists(path / kManifest)) {
    run.manifest_ = nlohmann::json::parse(util::read_file(path / kManifest), nullptr, false);
    if (run.manifest_.is_discarded()) run.manifest_ = nlohmann::json::object();
  } else {
    run.manifest_ = nlohmann::json::object();
  }
  run.manifest_["versions"] = version_info();
  return run;
}

RunFolder RunFolder::open(const fs::path& path) {
  require(fs::is_directory(path), fmt::format("run folder '{}' does not exist", path.string()),
          "create one with preimage run --out FOLDER");
  require(fs::exists(path / kManifest),
          fmt::format("'{}' has no manifest.json: not a run folder", path.string()),
          "create one with preimage run --out FOLDER");
  RunFolder run(path);
  try {
    run.manifest_ = nlohmann::json::parse(util::read_file(path / kManifest));
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("'{}' is corrupt: {}", (path / kManifest).string(), e.what()));
  }
  return run;
}

void RunFolder::save_manifest() const {
  util::write_file_atomic(path_ / kManifest, manifest_.dump(2) + "\n");
}

fs::path RunFolder::model_path() const {
  require(manifest_.contains("model") && manifest_["model"].contains("path"),
          fmt::format("run '{}' records no model", path_.string()),
          "run preimage train --out RUN (or preimage run) first");
  fs::path p = manifest_["model"]["path"].get<std::string>();
  return p.is_absolute() ? p : path_ / p;
}

void RunFolder::write_images(const data::DataSpec& spec, const data::Dataset& ds,
                             data::ImageRange range) {
  manifest_["images"] = {{"source", spec.source},
                         {"split", spec.split},
                         {"labels_path", spec.labels_path},
                         {"data_dir", spec.data_dir.string()},
                         {"binarize", spec.binarize},
                         {"range", {range.begin, range.end}},
                         {"count", ds.size()},
                         {"name", ds.name},
                         {"height", ds.height},
                         {"width", ds.width}};
  data::write_npy_tensor(path_ / "indices.npy", ds.indices);
  data::write_npy_tensor(path_ / "labels.npy", ds.labels);
}

data::Dataset RunFolder::load_images() const {
  require(manifest_.contains("images"),
          fmt::format("run '{}' records no images", path_.string()));
  const auto& im = manifest_["images"];
  data::DataSpec spec;
  spec.source = im["source"];
  spec.split = im["split"];
  spec.labels_path = im["labels_path"];
  spec.data_dir = im["data_dir"].get<std::string>();
  spec.binarize = im["binarize"];
  return data::load_dataset(spec, {im["range"][0], im["range"][1]});
}

torch::Tensor RunFolder::labels() const { return data::read_npy_tensor(path_ / "labels.npy"); }
torch::Tensor RunFolder::indices() const { return data::read_npy_tensor(path_ / "indices.npy"); }

void RunFolder::write_latents(const std::string& space, const torch::Tensor& latents) {
  data::write_npy_tensor(path_ / "latents" / (space + ".npy"), latents.to(torch::kFloat32));
}

bool RunFolder::has_latents(const std::string& space) const {
  return fs::exists(path_ / "latents" / (space + ".npy"));
}

torch::Tensor RunFolder::read_latents(const std::string& space) const {
  const fs::path p = path_ / "latents" / (space + ".npy");
  require(fs::exists(p), fmt::format("run '{}' has no latent space '{}' ({} is missing)",
                                     path_.string(), space, p.string()),
          space == "MT" ? "run preimage encode first" : "run preimage invert --method " + space);
  return data::read_npy_tensor(p);
}

std::vector<std::string> RunFolder::methods() const {
  std::vector<std::string> out;
  if (manifest_.contains("method_order"))
    for (const auto& m : manifest_["method_order"]) out.push_back(m);
  return out;
}

void RunFolder::write_solution(const MethodRecord& record, const solvers::Solution& s) {
  const std::string& m = record.method;
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

  nlohmann::json entry = {{"settings", record.settings},
                          {"seconds", record.seconds},
                          {"curve_images", record.curve_images},
                          {"images", s.latents.size(0)}};
  for (const auto& [name, values] : s.diagnostics) entry["diagnostics"].push_back(name);
  manifest_["methods"][m] = entry;
  auto order = methods();
  if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  manifest_["method_order"] = order;
}

torch::Tensor RunFolder::read_method_array(const std::string& method,
                                           const std::string& what) const {
  const fs::path p = path_ / "losses" / (method + "_" + what + ".npy");
  require(fs::exists(p), fmt::format("run '{}' is missing {}", path_.string(), p.string()),
          "run preimage invert --method " + method + " on it");
  return data::read_npy_tensor(p);
}

void RunFolder::write_results_csv() const {
  std::vector<MethodColumns> cols;
  for (const auto& m : methods()) {
    cols.push_back({m, read_method_array(m, "initial"), read_method_array(m, "final"),
                    read_method_array(m, "delta"), read_method_array(m, "iterations"),
                    read_method_array(m, "stop_reason")});
  }
  write_results_table(path_ / "results.csv", indices(), labels(), cols);
}

}  // namespace preimage::run
