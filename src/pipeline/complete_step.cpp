#include "pipeline/complete_step.h"

#include <regex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stb/stb_image.h>

#include "data/range.h"
#include "data/tensor_io.h"
#include "model/checkpoint.h"
#include "pipeline/encode_step.h"
#include "report/image_grid.h"
#include "solvers/grid.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace fs = std::filesystem;

torch::Tensor rect_mask(const std::string& rect, int64_t height, int64_t width) {
  std::smatch m;
  const std::string hint = "use --rect R0:R1,C0:C1, e.g. 0:14,0:28 for the top half of 28x28";
  require(std::regex_match(rect, m, std::regex(R"((\d+):(\d+),(\d+):(\d+))")),
          fmt::format("cannot read rectangle '{}'", rect), hint);
  const int64_t r0 = std::stoll(m[1]), r1 = std::stoll(m[2]), c0 = std::stoll(m[3]),
                c1 = std::stoll(m[4]);
  require(r1 > r0 && c1 > c0, fmt::format("rectangle '{}' is empty or inverted", rect), hint);
  require(r1 <= height && c1 <= width,
          fmt::format("rectangle '{}' reaches outside the {}x{} image", rect, height, width), hint);
  auto mask = torch::zeros({height, width});
  mask.slice(0, r0, r1).slice(1, c0, c1).fill_(1);
  return mask.view({-1});
}

torch::Tensor read_mask(const fs::path& path, int64_t height, int64_t width) {
  require(fs::exists(path), fmt::format("mask file '{}' does not exist", path.string()),
          "give a PNG or .npy of the image's size, nonzero = known pixel");
  torch::Tensor mask;
  if (path.extension() == ".npy") {
    mask = data::read_npy_tensor(path).to(torch::kFloat32).ne(0).to(torch::kFloat32);
  } else {
    int w = 0, h = 0, channels = 0;
    unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &channels, 1);
    require(pixels != nullptr,
            fmt::format("cannot read mask image '{}': {}", path.string(), stbi_failure_reason()),
            "give a PNG (grey > 127 = known pixel) or a .npy array");
    mask = torch::from_blob(pixels, {h, w}, torch::kUInt8).gt(127).to(torch::kFloat32);
    stbi_image_free(pixels);
  }
  require(mask.numel() == height * width,
          fmt::format("mask '{}' has {} pixels, the images have {}x{}", path.string(),
                      mask.numel(), height, width));
  return mask.reshape({-1}).contiguous();
}

Completion complete_images(const CompleteStep& step) {
  // Every input checked before any work.
  require(step.rect.empty() != step.mask_file.empty(),
          "give exactly one mask: --rect R0:R1,C0:C1 or --mask FILE");
  auto vae = model::load_vae(step.model);
  const auto& cfg = vae->config();
  const auto range = data::resolve_range(data::parse_range(step.images),
                                         data::dataset_size(step.data), step.data.source);
  auto mask = step.rect.empty() ? read_mask(step.mask_file, cfg.image_height, cfg.image_width)
                                : rect_mask(step.rect, cfg.image_height, cfg.image_width);
  if (step.missing) mask = 1 - mask;
  const int64_t known = mask.sum().item<int64_t>();
  require(known > 0, "the mask keeps no pixel: nothing to invert on",
          "the rectangle or mask marks the known pixels (or the missing ones with --missing)");
  if (step.request.method == "grid" || step.start == "grid")
    require(cfg.latent_dim <= solvers::GridSearch::kMaxLatentDim,
            fmt::format("grid search needs a latent dimension of at most {}, this model has {}",
                        solvers::GridSearch::kMaxLatentDim, cfg.latent_dim),
            "use --method gauss-newton");
  auto ds = data::load_dataset(step.data, range);
  require(ds.pixels() == cfg.pixels(),
          fmt::format("images of {} have {}x{} pixels, the model decodes {}x{}", ds.name,
                      ds.height, ds.width, cfg.image_height, cfg.image_width));
  util::ensure_writable_dir(step.out);

  solvers::DecoderEngine engine(vae->decoder());
  auto masked = ds.images * mask;  // (N, P), missing pixels 0
  torch::Tensor start = step.start == "prior"
                            ? torch::zeros({ds.size(), cfg.latent_dim})
                            : encoder_means(vae, masked, 5000);
  auto request = step.request;
  request.loss.mask = mask;
  request.show_progress = false;
  spdlog::info("completing {} images of {} from {} known pixels of {} with {}", ds.size(),
               ds.name, known, mask.numel(), request.method);
  auto s = solvers::invert(engine, ds.images, start, request);
  auto decoded = torch::sigmoid(engine.forward(s.latents));
  Completion c;
  c.latents = s.latents;
  c.mask = mask;
  c.final_loss = s.final_loss;
  c.completed = ds.images * mask + decoded * (1 - mask);

  data::write_npy_tensor(step.out / "completed.npy", c.completed.contiguous());
  data::write_npy_tensor(step.out / "decoded.npy", decoded.contiguous());
  data::write_npy_tensor(step.out / "latents.npy", c.latents.contiguous());
  data::write_npy_tensor(step.out / "mask.npy", mask.view({cfg.image_height, cfg.image_width}));
  // One row per image: original | masked (missing pixels grey) | completed.
  auto shown_masked = ds.images * mask + 0.5 * (1 - mask);
  auto rows = torch::stack({ds.images, shown_masked, c.completed}, 1).contiguous();  // (N, 3, P)
  std::vector<float> pixels(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
  report::write_image_grid(step.out / "completed.png", pixels, static_cast<int>(ds.size()), 3,
                           static_cast<int>(cfg.image_height), static_cast<int>(cfg.image_width));
  nlohmann::json record = {
      {"model", fs::absolute(step.model).string()},
      {"images", {{"source", step.data.source}, {"split", step.data.split}, {"range", range.str()}}},
      {"mask", step.rect.empty() ? step.mask_file.string() : step.rect},
      {"mask_marks", step.missing ? "missing" : "known"},
      {"known_pixels", known},
      {"method", request.method},
      {"settings", request.settings.to_json()},
      {"start", step.start},
      {"mean_masked_loss", s.final_loss.mean().item<double>()},
      {"files", {"completed.png", "completed.npy", "decoded.npy", "latents.npy", "mask.npy"}}};
  util::write_file_atomic(step.out / "completion.json", record.dump(2) + "\n");
  spdlog::info("wrote {}", (step.out / "completed.png").string());
  return c;
}

}  // namespace preimage::pipeline
