#include "run/records.h"

#include <type_traits>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::run {
namespace {

using nlohmann::json;

// Reads `j`[key] as T; a missing key or a value of another type is a UserError naming both.
template <typename T>
T get(const json& j, const char* key, const std::string& where) {
  require(j.is_object() && j.contains(key),
          fmt::format("{} has no '{}'", where, key),
          "the run folder's manifest.json is incomplete or was edited; run the step again");
  bool fits = true;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    fits = j.at(key).is_number_integer();  // nlohmann casts 2.5 (or 1e64: undefined) silently
  try {
    if (fits) return j.at(key).get<T>();
  } catch (const json::exception&) {
  }
  throw UserError(fmt::format("{}: '{}' is {}, not the expected type", where, key,
                              j.at(key).dump()),
                  "the run folder's manifest.json was edited or is corrupt; run the step again");
}
template <typename T>
T get_or(const json& j, const char* key, T fallback, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
  return get<T>(j, key, where);
}

data::ImageRange range_from(const json& j, const char* key, const std::string& where) {
  const auto r = get<std::vector<int64_t>>(j, key, where);
  require(r.size() == 2 && r[0] >= 0 && r[1] >= r[0],
          fmt::format("{}: '{}' is {}, not a range [begin, end]", where, key, j.at(key).dump()));
  return {r[0], r[1]};
}

}  // namespace

std::string MethodRecord::loss() const {
  if (settings.is_object() && settings.contains("loss") && settings["loss"].is_string())
    return settings["loss"].get<std::string>();
  return "squared-error";
}

json to_json(const ImagesRecord& r) {
  return {{"source", r.spec.source},
          {"split", r.spec.split},
          {"labels_path", r.spec.labels_path},
          {"data_dir", r.spec.data_dir.string()},
          {"binarize", r.spec.binarize ? json(*r.spec.binarize) : json()},
          {"image_shape", r.spec.image_shape},
          {"channels", r.channels},
          {"range", {r.range.begin, r.range.end}},
          {"count", r.count},
          {"name", r.name},
          {"height", r.height},
          {"width", r.width}};
}

ImagesRecord images_from_json(const json& j, const std::string& where) {
  ImagesRecord r;
  r.spec.source = get<std::string>(j, "source", where);
  r.spec.split = get<std::string>(j, "split", where);
  r.spec.labels_path = get_or<std::string>(j, "labels_path", "", where);
  r.spec.data_dir = get_or<std::string>(j, "data_dir", "", where);
  // A threshold, null (none), or the earlier true / false (0.5 / none).
  if (j.contains("binarize") && j["binarize"].is_boolean())
    r.spec.binarize = j["binarize"].get<bool>() ? std::optional<double>(0.5) : std::nullopt;
  else if (j.contains("binarize") && j["binarize"].is_null())
    r.spec.binarize = std::nullopt;
  else
    r.spec.binarize = get_or<double>(j, "binarize", 0.5, where);
  r.spec.image_shape = get_or<std::vector<int64_t>>(j, "image_shape", {}, where);
  r.channels = get_or<int64_t>(j, "channels", 1, where);
  r.range = range_from(j, "range", where);
  r.count = get_or<int64_t>(j, "count", r.range.size(), where);
  r.name = get_or<std::string>(j, "name", r.spec.source, where);
  r.height = get_or<int64_t>(j, "height", 0, where);
  r.width = get_or<int64_t>(j, "width", 0, where);
  return r;
}

json to_json(const TrainingRecord& r) {
  return {{"train", r.settings},
          {"train_images", r.images},
          {"data", r.data},
          {"final_train_elbo", r.final_train_elbo},
          {"final_test_elbo", r.final_test_elbo ? json(*r.final_test_elbo) : json()},
          {"selection", r.selection},
          {"seconds", r.seconds}};
}

json to_json(const ModelRecord& r) {
  if (r.imported()) return {{"source", r.source}};
  json j = {{"path", r.path.string()}, {"architecture", r.architecture}};
  if (r.training) {  // kept flat beside the path, as run folders have always had it
    const json training = to_json(*r.training);  // items() refers to it
    for (const auto& [key, value] : training.items()) j[key] = value;
  }
  return j;
}

ModelRecord model_from_json(const json& j, const std::string& where) {
  ModelRecord r;
  if (j.is_object() && j.contains("source")) {
    require(j["source"].is_object() && j["source"].contains("kind"),
            fmt::format("{}: 'source' is not a model's record", where),
            "the run folder's manifest.json was edited or is corrupt; run the step again");
    r.source = j["source"];
    return r;
  }
  r.path = get<std::string>(j, "path", where);
  r.architecture = j.is_object() && j.contains("architecture") ? j["architecture"] : json();
  if (j.is_object() && j.contains("train")) {
    TrainingRecord t;
    t.settings = j["train"];
    t.images = get_or<std::string>(j, "train_images", "", where);
    t.data = get_or<std::string>(j, "data", "", where);
    t.final_train_elbo = get_or<double>(j, "final_train_elbo", 0.0, where);
    if (j.contains("final_test_elbo") && !j["final_test_elbo"].is_null())
      t.final_test_elbo = get<double>(j, "final_test_elbo", where);
    t.seconds = get_or<double>(j, "seconds", 0.0, where);
    if (j.contains("selection")) t.selection = j["selection"];
    r.training = t;
  }
  return r;
}

json to_json(const MethodRecord& r) {
  json j = {{"settings", r.settings},
            {"seconds", r.seconds},
            {"curve_images", r.curve_images},
            {"images", r.images}};
  for (const auto& d : r.diagnostics) j["diagnostics"].push_back(d);
  return j;
}

MethodRecord method_from_json(const std::string& method, const json& j, const std::string& where) {
  MethodRecord r;
  r.method = method;
  r.settings = j.is_object() && j.contains("settings") ? j["settings"] : json::object();
  require(r.settings.is_object(),
          fmt::format("{}: 'settings' is {}, expected an object", where, r.settings.dump()),
          "the run folder's manifest.json was edited or is corrupt; run the step again");
  r.seconds = get_or<double>(j, "seconds", 0.0, where);
  r.curve_images = get_or<std::vector<int64_t>>(j, "curve_images", {}, where);
  r.images = get_or<int64_t>(j, "images", 0, where);
  r.diagnostics = get_or<std::vector<std::string>>(j, "diagnostics", {}, where);
  return r;
}

json to_json(const ShardRecord& r) {
  return {{"index", r.index},
          {"count", r.count},
          {"parent", r.parent.string()},
          {"parent_range", {r.parent_range.begin, r.parent_range.end}}};
}

ShardRecord shard_from_json(const json& j, const std::string& where) {
  ShardRecord r;
  r.index = get<int64_t>(j, "index", where);
  r.count = get<int64_t>(j, "count", where);
  require(r.count >= 1 && r.index >= 0 && r.index < r.count,
          fmt::format("{}: shard {}/{} is not a part k/n with 0 <= k < n", where, r.index, r.count),
          "the part's manifest.json was edited or is corrupt; make the part again");
  r.parent = get_or<std::string>(j, "parent", "", where);
  r.parent_range = range_from(j, "parent_range", where);
  return r;
}

json to_json(const EncodeRecord& r) { return {{"images", r.images}, {"shard", r.shard}}; }

EncodeRecord encode_from_json(const json& j, const std::string& where) {
  return {get_or<int64_t>(j, "images", 0, where), get_or<std::string>(j, "shard", "", where)};
}

json to_json(const AnalysisRecord& r) {
  return {{"file", r.file}, {"spaces", r.spaces}, {"seconds", r.seconds}};
}

AnalysisRecord analysis_from_json(const json& j, const std::string& where) {
  return {get_or<std::string>(j, "file", "analysis.json", where),
          get_or<std::vector<std::string>>(j, "spaces", {}, where),
          get_or<double>(j, "seconds", 0.0, where)};
}

json to_json(const ReportRecord& r) {
  return {{"seconds", r.seconds},
          {"figures", r.figures},
          {"notes", r.notes},
          {"files", json::array({"report.html", "report.md"})}};
}

}  // namespace preimage::run
