#include "pipeline/encode_step.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "pipeline/run_model.h"
#include "util/error.h"

namespace preimage::pipeline {

void encode_images(run::RunFolder& run, const EncodeStep& step) {
  data::ImageRange range = data::resolve_range(
      data::parse_range(step.images), data::dataset_size(step.data), step.data.source);
  if (!step.shard.empty()) range = data::shard_range(range, data::parse_shard(step.shard));
  auto ds = data::load_dataset(step.data, range);
  const auto model = adopt_model(run, step.model, [&](const decoders::GenerativeModel& m) {
    require_model_fits(m, ds, "the images to encode");
  });
  require_model_fits(model, ds, "the images to encode");
  if (run.has_images() && !run.methods().empty()) {
    const auto before = run.images();
    if (before.name != ds.name || before.range.str() != range.str())
      spdlog::warn("the run's images change from {} ({}) to {} ({}): the results of {} were "
                   "found for the old ones; invert again before analyzing",
                   before.name, before.range.str(), ds.name, range.str(),
                   fmt::join(run.methods(), ", "));
  }
  run.write_images(step.data, ds, range);
  if (model.has_encoder()) {
    spdlog::info("encoding {} images of {} (range {})", ds.size(), ds.name, range.str());
    auto mt = model.encoder->means(ds.images, step.batch_size);
    require(torch::isfinite(mt).all().item<bool>(), "the encoder produced NaN latents",
            "the model is probably corrupt; retrain or export it again");
    run.write_latents("MT", mt);
  } else {
    spdlog::info("{} images of {} (range {}) recorded; the model has no encoder: no MT (invert "
                 "with --start prior, grid or random:K)",
                 ds.size(), ds.name, range.str());
  }
  run.set_encode({ds.size(), step.shard});
  run.save_manifest();
}

}  // namespace preimage::pipeline
