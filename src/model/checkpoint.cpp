#include "model/checkpoint.h"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/zip_check.h"

namespace preimage::model {
namespace fs = std::filesystem;

namespace {
constexpr const char* kRecordKey = "preimage_record";  // archive key of the JSON record
constexpr const char* kParamsKey = "module";           // nested archive of the parameters
constexpr const char* kChecksumKey = "parameters_sha256";  // in the record: what was saved

// Every parameter and buffer's name, shape and bytes, in the module's order: the archive's zip
// CRCs are not checked on reading, so a flipped byte would otherwise load silently.
std::string parameters_digest(const torch::nn::Module& module) {
  util::Sha256 h;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    const auto c = t.detach().to(torch::kCPU).contiguous();
    const std::string head = fmt::format("{} {} {}\n", name, c10::toString(c.scalar_type()),
                                         fmt::join(c.sizes(), ","));
    h.add(head.data(), head.size());
    h.add(c.data_ptr(), c.numel() * c.element_size());
  };
  for (const auto& p : module.named_parameters()) add(p.key(), p.value());
  for (const auto& b : module.named_buffers()) add(b.key(), b.value());
  return h.finish();
}

void require_inside_storage(const torch::nn::Module& module, const fs::path& path) {
  for (const auto& p : module.named_parameters())
    require_tensor_inside_storage(p.value(), p.key(), path, "checkpoint");
  for (const auto& b : module.named_buffers())
    require_tensor_inside_storage(b.value(), b.key(), path, "checkpoint");
}

std::vector<std::pair<std::string, std::vector<int64_t>>> shapes_of(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value().sizes().vec());
  return out;
}

torch::serialize::InputArchive open_archive(const fs::path& path) {
  require(fs::exists(path), fmt::format("checkpoint '{}' does not exist", path.string()),
          "train one first (preimage train --out ...) or check the path");
  util::verify_zip(path, "checkpoint");  // LibTorch checks no CRC and trusts what it parses
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const std::exception&) {  // c10::Error, or TorchScript's ErrorReport for mangled code
    throw UserError(fmt::format("'{}' is not a readable checkpoint (corrupt or truncated)",
                                path.string()),
                    "re-create it with preimage train");
  }
  return archive;
}
}  // namespace

void require_tensor_inside_storage(const torch::Tensor& t, const std::string& name,
                                   const fs::path& path, const std::string& role) {
  if (!t.defined() || t.numel() == 0) return;
  int64_t last = t.storage_offset();  // the furthest element, in elements
  for (int64_t d = 0; d < t.dim(); ++d) {
    require(t.stride(d) >= 0, fmt::format("{} '{}': tensor '{}' has a negative stride", role,
                                          path.string(), name));
    last += (t.size(d) - 1) * t.stride(d);
  }
  require(t.has_storage() && t.storage().data() != nullptr &&
              static_cast<uint64_t>(last + 1) * t.element_size() <= t.storage().nbytes(),
          fmt::format("{} '{}' is corrupt: tensor '{}' of shape [{}] reaches past the {} bytes "
                      "stored for it", role, path.string(), name, fmt::join(t.sizes(), ", "),
                      t.has_storage() ? t.storage().nbytes() : 0),
          "the file was changed after it was written; write it again or restore a copy");
}

void save_checkpoint(torch::nn::Module& module, const nlohmann::json& architecture,
                     const nlohmann::json& meta, const fs::path& path) {
  if (path.has_parent_path()) util::ensure_writable_dir(path.parent_path());
  torch::serialize::OutputArchive archive, params;
  module.save(params);
  const nlohmann::json record = {
      {"architecture", architecture}, {"meta", meta}, {kChecksumKey, parameters_digest(module)}};
  archive.write(kRecordKey, c10::IValue(record.dump()));
  archive.write(kParamsKey, params);
  // Serialized in memory, then written as any other file: LibTorch's file writer throws from its
  // destructor when the disk fills (std::terminate) and leaves its temporary behind.
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw UserError(fmt::format("cannot serialize checkpoint '{}': {}", path.string(),
                                e.what_without_backtrace()));
  }
  util::write_file_atomic(path, bytes.str());
}

nlohmann::json read_checkpoint_record(const fs::path& path) {
  auto archive = open_archive(path);
  c10::IValue value;
  require(archive.try_read(kRecordKey, value) && value.isString(),
          fmt::format("'{}' is a LibTorch archive but not a preimage checkpoint (no architecture "
                      "record)", path.string()),
          "checkpoints are written by preimage train / train-classifier");
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw UserError(fmt::format("'{}' has a corrupt architecture record", path.string()));
  }
  require(record.is_object() && record.contains("architecture") &&
              record.at("architecture").is_object() &&
              (!record.contains("meta") || record.at("meta").is_object() || record.at("meta").is_null()),
          fmt::format("'{}' has a corrupt record: expected an object with an \"architecture\" "
                      "object and a \"meta\" object", path.string()),
          "re-create it with preimage train");
  return record;
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
  // LibTorch's load replaces a tensor of another shape silently: compare with the architecture's.
  const auto expected = shapes_of(module);
  try {
    module.load(params);
  } catch (const std::exception&) {
    throw UserError(fmt::format("parameters in '{}' do not fit architecture {}", path.string(),
                                architecture.dump()));
  }
  require_inside_storage(module, path);
  const auto loaded = shapes_of(module);
  for (size_t i = 0; i < expected.size(); ++i)
    require(i < loaded.size() && loaded[i] == expected[i],
            fmt::format("checkpoint '{}': parameter {} has shape [{}], but its record's "
                        "architecture {} makes [{}]",
                        path.string(), expected[i].first,
                        i < loaded.size() ? fmt::format("{}", fmt::join(loaded[i].second, ", "))
                                          : std::string("none"),
                        architecture.dump(), fmt::join(expected[i].second, ", ")),
            "the record and the weights disagree: the file was edited or is corrupt; train again");
  if (record.contains(kChecksumKey)) {
    require(record.at(kChecksumKey).is_string() &&
                record.at(kChecksumKey).get<std::string>() == parameters_digest(module),
            fmt::format("checkpoint '{}' is corrupt: its parameters do not match the checksum "
                        "recorded when it was saved", path.string()),
            "the file was changed after it was written; train again or restore a copy");
  }
}

Vae load_vae(const fs::path& path, const VaeConfig* expected) {
  const auto record = read_checkpoint_record(path);
  const VaeConfig stored = VaeConfig::from_json(record.at("architecture"));
  stored.check_sizes(fmt::format("checkpoint '{}'", path.string()));
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
