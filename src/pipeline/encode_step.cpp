#include "pipeline/encode_step.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/run_model.h"
#include "util/error.h"

namespace preimage::pipeline {

void encode_images(run::RunFolder& run, const EncodeStep& step) {
  const auto model = open_run_model(run);
  const auto& encoder = model.require_encoder("encoding the images (the latent space MT)");
  data::ImageRange range = data::resolve_range(
      data::parse_range(step.images), data::dataset_size(step.data), step.data.source);
  if (!step.shard.empty()) range = data::shard_range(range, data::parse_shard(step.shard));
  auto ds = data::load_dataset(step.data, range);
  require_model_fits(model, ds, "the images to encode");
  spdlog::info("encoding {} images of {} (range {})", ds.size(), ds.name, range.str());
  auto mt = encoder.means(ds.images, step.batch_size);
  require(torch::isfinite(mt).all().item<bool>(), "the encoder produced NaN latents",
          "the model checkpoint is probably corrupt; retrain it");
  run.write_images(step.data, ds, range);
  run.write_latents("MT", mt);
  run.set_encode({ds.size(), step.shard});
  run.save_manifest();
}

}  // namespace preimage::pipeline
