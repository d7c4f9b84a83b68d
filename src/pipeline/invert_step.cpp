#include "pipeline/invert_step.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "solvers/grid.h"
#include "util/error.h"

namespace preimage::pipeline {

torch::Tensor start_points(const run::RunFolder& run, const std::string& start, int64_t n,
                           int64_t latent_dim) {
  if (start == "prior") return torch::zeros({n, latent_dim});
  const std::string space = start == "encoder" ? "MT" : start;
  auto y = run.read_latents(space);
  require(y.dim() == 2 && y.size(0) == n && y.size(1) == latent_dim,
          fmt::format("start space '{}' has shape {}x{}, the run has {} images of latent "
                      "dimension {}", space, y.size(0), y.dim() > 1 ? y.size(1) : 0, n,
                      latent_dim));
  return y.to(torch::kFloat32);
}

solvers::Solution invert_run(run::RunFolder& run, const InvertStep& step) {
  auto vae = model::load_vae(run.model_path());
  auto ds = run.load_images();
  require(ds.pixels() == vae->config().pixels(),
          fmt::format("the run's images have {} pixels, its model decodes {}", ds.pixels(),
                      vae->config().pixels()));
  const int64_t L = vae->config().latent_dim;
  if (step.request.method == "grid" || step.start == "grid")
    require(L <= solvers::GridSearch::kMaxLatentDim,
            fmt::format("grid search needs a latent dimension of at most {}, this model has {}",
                        solvers::GridSearch::kMaxLatentDim, L),
            "use --method gauss-newton or lbfgs (and --start encoder) for larger latent spaces");
  solvers::DecoderEngine engine(vae->decoder());
  torch::Tensor start;
  if (step.start == "grid") {
    solvers::Objective whole(engine, step.request.loss, ds.images);
    start = solvers::GridSearch(step.request.settings).best_grid_points(whole).first;
  } else {
    start = start_points(run, step.start, ds.size(), engine.latent_dim());
  }

  solvers::InvertRequest request = step.request;
  request.encoder = [vae](const torch::Tensor& images) mutable {
    torch::NoGradGuard no_grad;
    return vae->encode(images.to(torch::kFloat32)).mean;
  };
  request.settings.curve_images.clear();
  for (int64_t i : step.curve_images)
    if (i >= 0 && i < ds.size()) request.settings.curve_images.push_back(i);
  const auto plan = solvers::plan_chunks(request, ds.size(), ds.images.device());
  spdlog::info(
      "inverting {} images with {} ({} iterations at most, loss {}, start {}; {} chunks of at "
      "most {} images on {} workers)",
      ds.size(), request.method, request.settings.max_iterations,
      solvers::loss_kind_name(request.loss.kind), step.start, plan.chunks(), plan.largest_chunk(),
      plan.workers);
  const auto t0 = std::chrono::steady_clock::now();
  auto solution = solvers::invert(engine, ds.images, start, request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("{}: {} images in {:.2f} s ({:.0f} img/s)", request.method, ds.size(), seconds,
               static_cast<double>(ds.size()) / seconds);

  run::MethodRecord record;
  record.method = request.method;
  record.seconds = seconds;
  record.curve_images = request.settings.curve_images;
  record.settings = request.settings.to_json();
  record.settings["loss"] = solvers::loss_kind_name(request.loss.kind);
  record.settings["prior_weight"] = request.loss.prior_weight;
  record.settings["start"] = step.start;
  record.settings["chunk_size"] = request.chunk_size;
  run.write_solution(record, solution);
  run.write_results_csv();
  run.save_manifest();
  return solution;
}

}  // namespace preimage::pipeline
