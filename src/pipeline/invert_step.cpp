#include "pipeline/invert_step.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/run_model.h"
#include "solvers/grid.h"
#include "util/error.h"

namespace preimage::pipeline {

solvers::InvertRequest InvertStep::request() const {
  solvers::InvertRequest r;
  r.method = method;
  r.settings = solvers::settings_for(method, settings);
  r.loss = loss;
  r.chunk_size = chunk_size;
  r.workers = workers;
  r.show_progress = show_progress;
  return r;
}

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
  solvers::InvertRequest request = step.request();  // settings checked before any work
  const auto model = open_run_model(run);
  const auto ds = run.load_images();
  require_model_fits(model, ds, "the run's images");
  const auto& decoder = *model.decoder;
  const int64_t L = model.latent_dim();
  const int64_t grid_limit = solvers::method_spec("grid").max_latent_dim;
  if (step.start == "grid")
    require(L <= grid_limit,
            fmt::format("--start grid needs a latent dimension of at most {}, this model has {}",
                        grid_limit, L),
            "start from the encoder or the prior for larger latent spaces");
  request.encoder = model.encoder;
  torch::Tensor start;
  if (step.start == "grid") {
    solvers::Objective whole(decoder, step.loss, ds.images);
    start = solvers::GridSearch(solvers::settings_for("grid", step.settings))
                .best_grid_points(whole)
                .first;
  } else {
    start = start_points(run, step.start, ds.size(), L);
  }
  for (int64_t i : step.curve_images)
    if (i >= 0 && i < ds.size()) request.curve_images.push_back(i);
  const auto plan = solvers::plan_chunks(request, ds.size(), ds.images.device());
  spdlog::info(
      "inverting {} images with {} ({} iterations at most, loss {}, start {}; {} chunks of at "
      "most {} images on {} workers)",
      ds.size(), request.method, request.settings.stop.max_iterations,
      solvers::loss_kind_name(request.loss.kind), step.start, plan.chunks(), plan.largest_chunk(),
      plan.workers);
  const auto t0 = std::chrono::steady_clock::now();
  auto solution = solvers::invert(decoder, ds.images, start, request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("{}: {} images in {:.2f} s ({:.0f} img/s)", request.method, ds.size(), seconds,
               static_cast<double>(ds.size()) / seconds);

  run::MethodRecord record;
  record.method = request.method;
  record.seconds = seconds;
  record.curve_images = request.curve_images;
  record.settings = solvers::settings_json(request.method, request.settings);
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
