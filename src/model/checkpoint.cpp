#include "model/checkpoint.h"

#include <fmt/format.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::model {
namespace fs = std::filesystem;

namespace {
constexpr const char* kRecordKey = "preimage_record";  // archive key of the JSON record
constexpr const char* kParamsKey = "module";           // nested archive of the parameters

torch::serialize::InputArchive open_archive(const fs::path& path) {
  require(fs::exists(path), fmt::format("checkpoint '{}' does not exist", path.string()),
          "train one first (preimage train --out ...) or check the path");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    throw UserError(fmt::format("'{}' is not a readable checkpoint (corrupt or truncated)",
                                path.string()),
                    "re-create it with preimage train");
  }
  return archive;
}
}  // namespace

void save_checkpoint(torch::nn::Module& module, const nlohmann::json& architecture,
                     const nlohmann::json& meta, const fs::path& path) {
  if (path.has_parent_path()) util::ensure_writable_dir(path.parent_path());
  torch::serialize::OutputArchive archive, params;
  module.save(params);
  const nlohmann::json record = {{"architecture", architecture}, {"meta", meta}};
  archive.write(kRecordKey, c10::IValue(record.dump()));
  archive.write(kParamsKey, params);
  const fs::path temp = util::temp_path_for(path);
  try {
    archive.save_to(temp.string());
  } catch (const c10::Error& e) {
    throw UserError(fmt::format("cannot write checkpoint '{}'", path.string()));
  }
  util::commit_temp_file(temp, path);
}

nlohmann::json read_checkpoint_record(const fs::path& path) {
  auto archive = open_archive(path);
  c10::IValue value;
  require(archive.try_read(kRecordKey, value) && value.isString(),
          fmt::format("'{}' is a LibTorch archive but not a preimage checkpoint (no architecture "
                      "record)", path.string()),
          "checkpoints are written by preimage train / train-classifier");
  try {
    return nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw UserError(fmt::format("'{}' has a corrupt architecture record", path.string()));
  }
}

void load_checkpoint(torch::nn::Module& module, const nlohmann::json& architecture,
                     const fs::path& path) {
  const auto record = read_checkpoint_record(path);
  const auto& stored = record.at("architecture");
  require(stored == architecture,
          fmt::format("checkpoint '{}' holds architecture {}, expected {}", path.string(),
                      stored.dump(), architecture.dump()),
          "use the flags the checkpoint was trained with, or train a new one");
  auto archive = open_archive(path);
  torch::serialize::InputArchive params;
  require(archive.try_read(kParamsKey, params),
          fmt::format("'{}' has no parameters", path.string()));
  try {
    module.load(params);
  } catch (const c10::Error& e) {
    throw UserError(fmt::format("parameters in '{}' do not fit architecture {}", path.string(),
                                architecture.dump()));
  }
}

Vae load_vae(const fs::path& path, const VaeConfig* expected) {
  const auto record = read_checkpoint_record(path);
  const VaeConfig stored = VaeConfig::from_json(record.at("architecture"));
  if (expected != nullptr) {
    require(stored == *expected,
            fmt::format("checkpoint '{}' holds a VAE with {}, expected {}", path.string(),
                        stored.describe(), expected->describe()),
            "drop the architecture flags to use the checkpoint's own, or train a new model");
  }
  Vae vae(stored);
  load_checkpoint(*vae, stored.to_json(), path);
  vae->eval();
  return vae;
}

}  // namespace preimage::model
