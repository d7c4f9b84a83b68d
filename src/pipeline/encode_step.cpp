#include "pipeline/encode_step.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cluster/farm.h"
#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/run_model.h"
#include "solvers/chunk_messages.h"
#include "util/blas_threads.h"
#include "util/error.h"

namespace preimage::pipeline {

torch::Tensor encode_shared(const decoders::GenerativeModel& model,
                            const decoders::ModelSource& source, const torch::Tensor& images,
                            int64_t batch) {
  require(batch > 0, fmt::format("--batch-size must be positive, got {}", batch));
  const int64_t n = images.size(0);
  std::vector<int64_t> bounds, chunks;
  for (int64_t b = 0; b < n; b += batch) bounds.push_back(b);
  bounds.push_back(n);
  for (int64_t c = 0; c + 1 < static_cast<int64_t>(bounds.size()); ++c) chunks.push_back(c);
  std::vector<torch::Tensor> parts(chunks.size());
  const auto rows = [&](int64_t c) { return images.slice(0, bounds[c], bounds[c + 1]); };
  const auto& world = cluster::World::get();
  cluster::FarmWork work;
  if (world.sharing())
    work.job = nlohmann::json{{"command", "encode"}, {"model", model_job(source, model)}}.dump();
  work.chunks = chunks;
  work.pack = [&](int64_t c) { return solvers::pack_tensors({{"images", rows(c)}}); };
  work.solve_here = [&](int64_t c) {
    parts[c] = model.encoder->means(rows(c), batch).cpu();
  };
  work.solved_here = [](int64_t) {};
  work.solved_remotely = [&](int64_t c, const std::string& bytes) {
    auto mean = solvers::tensor_at(solvers::unpack_tensors(bytes, "encoder means"), "means",
                                   "encoder means");
    require(mean.dim() == 2 && mean.size(0) == bounds[c + 1] - bounds[c] &&
                mean.size(1) == model.latent_dim(),
            fmt::format("a rank returned means of shape {} for {} images",
                        fmt::join(mean.sizes(), "x"),
                        bounds[c + 1] - bounds[c]));
    parts[c] = mean;
  };
  if (chunks.empty()) return torch::zeros({0, model.latent_dim()});
  // Each batch with a single-threaded BLAS, the batches on the BLAS's threads or the ranks: the
  // means do not depend on where a batch was encoded.
  const auto farm = cluster::share(work);
  if (world.sharing())
    spdlog::info("{} batches encoded on rank 0 and {} on the other {} ranks", farm.chunks_here,
                 farm.chunks_remote, world.size() - 1);
  return torch::cat(parts, 0);
}

cluster::ChunkSolver open_encode_job(const nlohmann::json& job) {
  const auto model = std::make_shared<decoders::GenerativeModel>(open_job_model(job.at("model")));
  require(model->has_encoder(), "rank 0 asked to encode with a model that has no encoder");
  return [model](const std::string& bytes) {
    const auto images = solvers::tensor_at(solvers::unpack_tensors(bytes, "images"), "images",
                                           "images");
    require(images.dim() == 2 && images.size(1) == model->pixels(),
            "a batch's images do not fit this rank's model");
    util::ScopedBlasThreads single_threaded_blas(1);
    return solvers::pack_tensors(
        {{"means", model->encoder->means(images, std::max<int64_t>(images.size(0), 1))}});
  };
}

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
    decoders::ModelSource source;  // what the other ranks of an MPI job open
    if (cluster::World::get().sharing()) {
      source = step.model.empty() ? run_model_source(run, step.model.device) : step.model;
      if (source.device.empty()) source.device = "cpu";
    }
    auto mt = encode_shared(model, source, ds.images, step.batch_size);
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
