#include "pipeline/complete_step.h"

#include <optional>
#include <regex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "data/mask.h"
#include "data/range.h"
#include "data/tensor_io.h"
#include "solvers/registry.h"
#include "decoders/model_source.h"
#include "pipeline/run_model.h"
#include "report/image_grid.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace fs = std::filesystem;

torch::Tensor rect_mask(const std::string& rect, int64_t height, int64_t width) {
  std::smatch m;
  const std::string hint = "use --rect R0:R1,C0:C1, e.g. 0:14,0:28 for the top half of 28x28";
  require(std::regex_match(rect, m, std::regex(R"((\d{1,9}):(\d{1,9}),(\d{1,9}):(\d{1,9}))")),
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
  return data::read_mask(path, height, width);  // PNG or .npy, checked in data/mask.cpp
}

CompleteStep completion_of_run(const run::RunFolder& run, CompleteStep step, bool data_given,
                               bool images_given) {
  if (step.model.empty()) step.model = run_model_source(run, step.model.device);
  if (!data_given && run.has_images()) {
    const auto images = run.images();
    step.data = images.spec;
    if (!images_given)
      step.images = fmt::format("{}:{}", images.range.begin,
                                std::min(images.range.begin + 8, images.range.end));
  }
  if (step.out.empty()) step.out = run.path() / "completion";
  return step;
}

Completion complete_images(const CompleteStep& step) {
  // Every input checked before any work.
  require(step.rect.empty() != step.mask_file.empty(),
          "give exactly one mask: --rect R0:R1,C0:C1 or --mask FILE");
  auto request = solvers::InvertRequest{};
  request.method = step.method;
  request.settings = solvers::settings_for(step.method, step.settings);
  request.loss = step.loss;
  request.show_progress = false;
  const auto model = decoders::open_model(step.model);
  const auto range = data::resolve_range(data::parse_range(step.images),
                                         data::dataset_size(step.data), step.data.source);
  require(model.image_channels == 1,
          fmt::format("completion masks are H x W, the model's images have {} channels",
                      model.image_channels),
          "complete one-channel images");
  const int64_t height = model.image_height, width = model.image_width;
  auto mask = step.rect.empty() ? read_mask(step.mask_file, height, width)
                                : rect_mask(step.rect, height, width);
  if (step.missing) mask = 1 - mask;
  const int64_t known = mask.sum().item<int64_t>();
  require(known > 0, "the mask keeps no pixel: nothing to invert on",
          "the rectangle or mask marks the known pixels (or the missing ones with --missing)");
  solvers::require_method_fits(step.method, step.start, model.latent_dim(), model.has_encoder());
  auto ds = data::load_dataset(step.data, range);
  require_model_fits(model, ds, "the images to complete");
  util::ensure_writable_dir(step.out);
  // A completion that a kill interrupted while its files were renamed is finished first.
  util::recover_commit(step.out / ".commit");

  const auto& decoder = *model.decoder;
  // The solvers see the masked images (missing pixels 0): the masked loss ignores those pixels
  // anyway, and what encodes them (the start, fixed-point's E(Z)) must not see them either.
  auto masked = ds.images * mask;  // (N, P)
  const auto options = torch::TensorOptions().device(decoder.device()).dtype(decoder.dtype());
  torch::Tensor start = step.start == "prior" ? torch::zeros({ds.size(), model.latent_dim()}, options)
                                              : model.encoder->means(masked).to(options);
  request.loss.mask = mask.to(options);
  request.encoder = model.encoder;
  spdlog::info("completing {} images of {} from {} known pixels of {} with {}", ds.size(),
               ds.name, known, mask.numel(), request.method);
  auto s = solvers::invert(decoder, masked.to(options), start, request);
  auto decoded = model.decode_images(s.latents);
  Completion c;
  c.latents = s.latents.to(torch::kCPU);
  c.mask = mask;
  c.final_loss = s.final_loss.to(torch::kCPU);
  c.completed = ds.images * mask + decoded * (1 - mask);

  // The completion's files land together, completion.json last (through a journal).
  util::StagedFiles files;
  std::optional<util::StagingScope> staging(std::in_place, files);
  data::write_npy_tensor(step.out / "completed.npy", c.completed.contiguous());
  data::write_npy_tensor(step.out / "decoded.npy", decoded.contiguous());
  data::write_npy_tensor(step.out / "latents.npy", c.latents.contiguous());
  data::write_npy_tensor(step.out / "mask.npy", mask.view({height, width}));
  data::write_npy_tensor(step.out / "start_loss.npy", s.initial_loss.to(torch::kCPU));
  data::write_npy_tensor(step.out / "final_loss.npy", c.final_loss);
  // One row per image: original | masked (missing pixels grey) | completed.
  auto shown_masked = ds.images * mask + 0.5 * (1 - mask);
  auto rows = torch::stack({ds.images, shown_masked, c.completed}, 1).contiguous();  // (N, 3, P)
  std::vector<float> pixels(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
  report::write_image_grid(step.out / "completed.png", pixels, static_cast<int>(ds.size()), 3,
                           static_cast<int>(height), static_cast<int>(width));
  nlohmann::json record = {
      {"model", model.record},
      {"images", {{"source", step.data.source}, {"split", step.data.split}, {"range", range.str()}}},
      {"mask", step.rect.empty() ? step.mask_file.string() : step.rect},
      {"mask_marks", step.missing ? "missing" : "known"},
      {"known_pixels", known},
      {"method", request.method},
      {"settings", solvers::settings_json(request.method, request.settings)},
      {"start", step.start},
      {"mean_start_loss", s.initial_loss.mean().item<double>()},
      {"mean_masked_loss", s.final_loss.mean().item<double>()},
      {"files", {"completed.png", "completed.npy", "decoded.npy", "latents.npy", "mask.npy",
                 "start_loss.npy", "final_loss.npy"}}};
  util::write_file_atomic(step.out / "completion.json", record.dump(2) + "\n");
  staging.reset();
  files.commit(step.out / ".commit");
  spdlog::info("wrote {}", (step.out / "completed.png").string());
  return c;
}

}  // namespace preimage::pipeline
