#include "pipeline/invert_step.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/run_model.h"
#include "pipeline/threads.h"
#include "run/partial_inversion.h"
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
  solvers::check_loss_spec(r.loss);
  check_parallelism(r.chunk_size, r.workers);
  return r;
}

torch::Tensor random_starts(const solvers::Objective& objective, int64_t draws, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const int64_t n = objective.batch(), L = objective.latent_dim();
  auto generator = at::detail::createCPUGenerator(seed);
  const auto options = objective.targets().options();
  auto best = torch::zeros({n, L}, options);
  auto best_value = torch::full({n}, std::numeric_limits<double>::infinity(), options);
  for (int64_t k = 0; k < draws; ++k) {
    auto y = at::randn({n, L}, generator, torch::TensorOptions().dtype(options.dtype()))
                 .to(options.device());
    auto value = objective.value(y);
    auto better = value < best_value;
    best = torch::where(better.unsqueeze(1), y, best);
    best_value = torch::where(better, value, best_value);
  }
  return best;
}

torch::Tensor start_points(const run::RunFolder& run, const InvertStep& step,
                           const decoders::GenerativeModel& model, const torch::Tensor& targets) {
  const int64_t n = targets.size(0), L = model.latent_dim();
  const auto options = targets.options();
  const std::string& start = step.start;
  if (start == "prior") return torch::zeros({n, L}, options);
  if (start == "grid" || start.rfind("random:", 0) == 0) {
    solvers::Objective whole(*model.decoder, step.loss, targets);
    if (start == "grid") {
      const int64_t limit = solvers::method_spec("grid").max_latent_dim;
      require(L <= limit,
              fmt::format("--start grid needs a latent dimension of at most {}, this model has {}",
                          limit, L),
              "start from the prior, random:K or the encoder for larger latent spaces");
      return solvers::GridSearch(solvers::settings_for("grid", step.settings))
          .best_grid_points(whole)
          .first;
    }
    int64_t draws = 0;
    try {
      draws = std::stoll(start.substr(7));
    } catch (const std::exception&) {
    }
    require(draws >= 1 && draws <= 100000,
            fmt::format("--start {}: K must be a whole number from 1 to 100000", start),
            "e.g. --start random:64");
    return random_starts(whole, draws, step.seed);
  }
  if (start == "encoder")
    model.require_encoder("--start encoder (the encoder's means, MT)");
  const std::string space = start == "encoder" ? "MT" : start;
  auto y = run.read_latents(space);
  require(y.dim() == 2 && y.size(0) == n && y.size(1) == L,
          fmt::format("start space '{}' has shape {}x{}, the run has {} images of latent "
                      "dimension {}", space, y.size(0), y.dim() > 1 ? y.size(1) : 0, n, L));
  return y.to(options);
}

namespace {

// What an inversion's chunks depend on: a resume with any of it changed starts over.
nlohmann::json inversion_identity(const run::MethodRecord& record,
                                  const solvers::InvertRequest& request,
                                  const decoders::GenerativeModel& model,
                                  const torch::Tensor& targets, const torch::Tensor& start) {
  return {{"format", 1},
          {"versions", run::version_info()},
          {"method", record.method},
          {"settings", record.settings},
          {"curve_images", request.curve_images},
          {"model", model_identity(model)},
          {"device", targets.device().str()},
          {"images", targets.size(0)},
          {"targets", run::tensor_digest(targets)},
          {"start", run::tensor_digest(start)},
          {"mask", request.loss.mask.defined() ? run::tensor_digest(request.loss.mask)
                                                : std::string()}};
}

// What a worker rank needs to solve this inversion's chunks: the model (cluster_jobs.h) and the
// settings (its own, from the same command line, must agree).
std::string inversion_job(const decoders::ModelSource& source,
                          const decoders::GenerativeModel& model,
                          const solvers::InvertRequest& request) {
  return nlohmann::json{{"command", "invert"},
                        {"method", request.method},
                        {"settings", solvers::settings_json(request.method, request.settings)},
                        {"loss", solvers::loss_kind_name(request.loss.kind)},
                        {"prior_weight", request.loss.prior_weight},
                        {"model", model_job(source, model)}}
      .dump();
}

}  // namespace

cluster::ChunkSolver open_inversion_job(const nlohmann::json& job, const InvertStep& step,
                                        const std::vector<std::string>& methods) {
  InvertStep mine = step;
  const std::string method = job.at("method");
  if (std::find(methods.begin(), methods.end(), method) != methods.end()) mine.method = method;
  auto request = mine.request();
  const bool same =
      job.at("method") == request.method &&
      job.at("settings") == solvers::settings_json(request.method, request.settings) &&
      job.at("loss") == solvers::loss_kind_name(request.loss.kind) &&
      job.at("prior_weight").get<double>() == request.loss.prior_weight;
  require(same,
          fmt::format("this rank's inversion settings differ from rank 0's ({} {})", method,
                      job.at("settings").dump()),
          "give every rank the same command line");
  const auto model = open_job_model(job.at("model"));
  request.encoder = model.encoder;
  auto worker = std::make_shared<solvers::ChunkWorker>(model.decoder, request);
  return [worker](const std::string& chunk) { return worker->solve(chunk); };
}

solvers::Solution invert_run(run::RunFolder& run, const InvertStep& step) {
  solvers::InvertRequest request = step.request();  // settings checked before any work
  run.require_write();
  const auto model = adopt_model(run, step.model);
  if (cluster::World::get().sharing()) {
    auto source = step.model.empty() ? run_model_source(run, step.model.device) : step.model;
    source.device = step.model.device.empty() ? "cpu" : step.model.device;
    request.cluster_job = inversion_job(source, model, request);
  }
  const auto ds = run.load_images();
  require_model_fits(model, ds, "the run's images");
  const auto& decoder = *model.decoder;
  request.encoder = model.encoder;
  const auto targets = ds.images.to(decoder.device(), decoder.dtype());
  if (request.loss.mask.defined()) request.loss.mask = request.loss.mask.to(targets.options());
  const auto start = start_points(run, step, model, targets);
  for (int64_t i : step.curve_images)
    if (i >= 0 && i < ds.size()) request.curve_images.push_back(i);

  run::MethodRecord record;
  record.method = request.method;
  record.curve_images = request.curve_images;
  record.settings = solvers::settings_json(request.method, request.settings);
  record.settings["loss"] = solvers::loss_kind_name(request.loss.kind);
  record.settings["prior_weight"] = request.loss.prior_weight;
  record.settings["start"] = step.start;
  if (step.start.rfind("random:", 0) == 0) record.settings["seed"] = step.seed;
  record.settings["chunk_size"] = request.chunk_size;

  // Each chunk is recorded as it is solved: a killed inversion resumes from them, in the split
  // it began with.
  const run::PartialInversion partial(
      run.path(), request.method, inversion_identity(record, request, model, targets, start),
      solvers::plan_chunks(request, ds.size(), targets.device()).bounds);
  request.bounds = partial.bounds();
  request.solved_chunks = partial.solved(targets.device());
  request.on_chunk = [&partial](int64_t chunk, const solvers::Solution& s) {
    partial.record(chunk, s);
  };
  const auto plan = solvers::plan_chunks(request, ds.size(), targets.device());
  if (!request.solved_chunks.empty())
    spdlog::info("resuming: {} of the {} chunks were solved before (from {})",
                 request.solved_chunks.size(), plan.chunks(), partial.folder().string());
  spdlog::info(
      "inverting {} images with {} ({} iterations at most, loss {}, start {}; {} chunks of at "
      "most {} images on {}; {})",
      ds.size(), request.method, request.settings.stop.max_iterations,
      solvers::loss_kind_name(request.loss.kind), step.start, plan.chunks(), plan.largest_chunk(),
      request.cluster_job.empty()
          ? fmt::format("{} workers", plan.workers)
          : fmt::format("{} MPI ranks", cluster::World::get().size()),
      decoder.describe());
  const auto t0 = std::chrono::steady_clock::now();
  auto solution = solvers::invert(decoder, targets, start, request);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("{}: {} images in {:.2f} s ({:.0f} img/s)", request.method, ds.size(), seconds,
               static_cast<double>(ds.size()) / seconds);

  record.seconds = seconds;
  // The step's files land together, the manifest last (RunFolder::save_manifest).
  run.write_solution(record, solution);
  run.write_results_csv();
  run.save_manifest();
  partial.remove();
  return solution;
}

}  // namespace preimage::pipeline
