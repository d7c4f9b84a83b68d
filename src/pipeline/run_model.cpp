#include "pipeline/run_model.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/error.h"
#include "util/sha256.h"

namespace preimage::pipeline {

decoders::ModelSource run_model_source(const run::RunFolder& run, const std::string& device) {
  const auto record = run.model();
  decoders::ModelSource source;
  if (record.imported()) {
    source = decoders::source_of_record(
        record.source, fmt::format("run '{}' (manifest.json, model)", run.path().string()));
  } else {
    source.checkpoint = run.model_path();
  }
  source.device = device;
  return source;
}

nlohmann::json model_identity(const decoders::GenerativeModel& model) {
  nlohmann::json id = model.record;
  if (id.contains("path")) {  // preimage's own VAE: its bytes, wherever it lies
    id["sha256"] = util::sha256_of(id["path"].get<std::string>());
    id.erase("path");
  }
  return id;
}

decoders::GenerativeModel open_run_model(const run::RunFolder& run, const std::string& device) {
  auto model = decoders::open_model(run_model_source(run, device));
  // A checkpoint replaced under the run (another latent size, another width) would otherwise
  // surface later as a shape error deep inside a product.
  const auto record = run.model();
  if (!record.imported() && record.architecture.is_object() &&
      model.record.contains("architecture") && model.record.at("architecture") != record.architecture)
    throw UserError(
        fmt::format("'{}' is not the model run '{}' recorded: its architecture is {}, the "
                    "manifest's is {}",
                    run.model_path().string(), run.path().string(),
                    model.record.at("architecture").dump(), record.architecture.dump()),
        "restore the run's model, or train again: preimage run --retrain --out RUN");
  return model;
}

decoders::GenerativeModel adopt_model(
    run::RunFolder& run, const decoders::ModelSource& source,
    const std::function<void(const decoders::GenerativeModel&)>& check) {
  if (source.empty()) return open_run_model(run, source.device);
  auto model = decoders::open_model(source);
  if (check) check(model);
  if (!run.has_model()) {
    run::ModelRecord record;
    if (source.kind() == "vae") {
      record.path = std::filesystem::absolute(source.checkpoint);
      record.architecture = model.record.at("architecture");
    } else {
      record.source = model.record;
    }
    run.set_model(record);
    run.save_manifest();
    return model;
  }
  // The run has a model: the one given must be it.
  const auto recorded = run.model();
  auto same_files = [&](const nlohmann::json& a, const nlohmann::json& b) {
    for (const char* key : {"decoder", "encoder", "weights"})
      if (a.contains(key) != b.contains(key) ||
          (a.contains(key) && a[key].at("sha256") != b[key].at("sha256")))
        return false;
    return a.at("kind") == b.at("kind");
  };
  const bool same = recorded.imported()
                        ? !model.record.contains("architecture") &&
                              same_files(recorded.source, model.record)
                        : source.kind() == "vae" &&
                              std::filesystem::equivalent(source.checkpoint, run.model_path());
  if (!same)
    throw UserError(
        fmt::format("run '{}' already has its model ({}); the one given is another",
                    run.path().string(),
                    recorded.imported() ? recorded.source.value("description", "imported")
                                        : run.model_path().string()),
        "give the run's own model (or none: the run's is used), or make a new run (--out)");
  return model;
}

void require_model_fits(const decoders::GenerativeModel& model, const data::Dataset& images,
                        const std::string& what) {
  require(images.pixels() == model.pixels(),
          fmt::format("{} ({}) are {}x{} = {} pixels, the model decodes images of {} pixels "
                      "({}x{}x{})",
                      what, images.name, images.height, images.width, images.pixels(),
                      model.pixels(), model.image_channels, model.image_height,
                      model.image_width),
          "give images of the model's size (--data), or the model of these images");
}

}  // namespace preimage::pipeline
