#include "pipeline/encode_step.h"

#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "util/error.h"

namespace preimage::pipeline {

torch::Tensor encoder_means(model::Vae& vae, const torch::Tensor& images, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < images.size(0); b += batch_size)
    parts.push_back(vae->encode(images.slice(0, b, std::min(images.size(0), b + batch_size))).mean);
  return torch::cat(parts, 0);
}

void encode_images(run::RunFolder& run, const EncodeStep& step) {
  auto vae = model::load_vae(run.model_path());
  data::ImageRange range = data::resolve_range(
      data::parse_range(step.images), data::dataset_size(step.data), step.data.source);
  if (!step.shard.empty()) range = data::shard_range(range, data::parse_shard(step.shard));
  auto ds = data::load_dataset(step.data, range);
  const auto& cfg = vae->config();
  require(ds.pixels() == cfg.pixels(),
          fmt::format("images of {} have {}x{} pixels, the model decodes {}x{}", ds.name,
                      ds.height, ds.width, cfg.image_height, cfg.image_width),
          "train a model on this data set (preimage train --data ...)");
  spdlog::info("encoding {} images of {} (range {})", ds.size(), ds.name, range.str());
  auto mt = encoder_means(vae, ds.images, step.batch_size);
  require(torch::isfinite(mt).all().item<bool>(), "the encoder produced NaN latents",
          "the model checkpoint is probably corrupt; retrain it");
  run.write_images(step.data, ds, range);
  run.write_latents("MT", mt);
  run.manifest()["encode"] = {{"images", ds.size()}, {"shard", step.shard}};
  run.save_manifest();
}

}  // namespace preimage::pipeline
