#include "solvers/invert.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "util/error.h"
#include "util/progress.h"

namespace preimage::solvers {

Solution invert(const DecoderEngine& engine, const torch::Tensor& targets,
                const torch::Tensor& start, const InvertRequest& request) {
  const int64_t n = targets.size(0);
  require(start.dim() == 2 && start.size(0) == n && start.size(1) == engine.latent_dim(),
          fmt::format("start points have shape {}, expected ({}, {})",
                      fmt::streamed(start.sizes()), n, engine.latent_dim()));
  require(torch::isfinite(start).all().item<bool>(), "start points contain NaN or infinity");
  require(request.chunk_size > 0, "chunk size must be positive");
  for (int64_t i : request.settings.curve_images)
    require(i >= 0 && i < n, fmt::format("curve image {} is outside the {} images", i, n));

  std::vector<Solution> parts;
  // Progress in image-iterations: an image that stops early skips its remaining iterations.
  const int64_t cap = std::max<int64_t>(request.settings.max_iterations, 1);
  std::unique_ptr<util::Progress> progress;
  if (request.show_progress)
    progress = std::make_unique<util::Progress>(request.method, n * cap, "img-it");
  auto cache = std::make_shared<ChunkCache>();
  for (int64_t begin = 0; begin < n; begin += request.chunk_size) {
    const int64_t end = std::min(n, begin + request.chunk_size);
    SolverSettings settings = request.settings;
    settings.cache = cache;
    int64_t running = end - begin, iteration = 0, reported = 0;
    if (progress) {
      settings.on_iteration = [&](int64_t now_running) {
        ++iteration;
        const int64_t stopped = running - now_running;
        const int64_t units = running + stopped * std::max<int64_t>(cap - iteration, 0);
        progress->advance(units);
        reported += units;
        running = now_running;
      };
    }
    settings.curve_images.clear();
    for (int64_t i : request.settings.curve_images)
      if (i >= begin && i < end) settings.curve_images.push_back(i - begin);
    LossSpec loss = request.loss;
    if (loss.mask.defined() && loss.mask.dim() == 2) loss.mask = loss.mask.slice(0, begin, end);
    Objective objective(engine, loss, targets.slice(0, begin, end).contiguous());
    if (request.encoder) objective.set_encoder(request.encoder);
    auto solver = make_solver(request.method, settings);
    parts.push_back(solver->solve(objective, start.slice(0, begin, end).contiguous()));
    if (progress) progress->advance((end - begin) * cap - reported);
  }
  if (progress) progress->finish();
  return Solution::concat(parts);
}

}  // namespace preimage::solvers
