#include "pipeline/cluster_jobs.h"

#include <fmt/format.h>

#include "cluster/farm.h"
#include "cluster/world.h"
#include "pipeline/certify_step.h"
#include "pipeline/encode_step.h"
#include "pipeline/invert_step.h"
#include "pipeline/likelihood_step.h"
#include "pipeline/run_model.h"
#include "pipeline/solver_benchmark.h"
#include "util/error.h"

namespace preimage::pipeline {

namespace {

// The model's identity without where it runs (each rank has its own device).
nlohmann::json files_identity(const decoders::GenerativeModel& model) {
  auto id = model_identity(model);
  id.erase("device");
  id.erase("description");
  return id;
}

// The device of this rank: plain "cuda" is GPU r for local rank r.
std::string rank_device(const std::string& device) {
  if (device != "cuda") return device;
  const int r = cluster::World::get().local_rank();
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  require(r < gpus,
          fmt::format("--device cuda maps local rank {} to GPU {}, and this machine has {} GPUs", r,
                      r, gpus),
          "start at most as many ranks per machine as it has GPUs");
  return fmt::format("cuda:{}", r);
}

}  // namespace

nlohmann::json model_job(const decoders::ModelSource& source,
                         const decoders::GenerativeModel& model) {
  auto path = [](const std::filesystem::path& p) {
    return p.empty() ? std::string() : std::filesystem::absolute(p).string();
  };
  return {{"checkpoint", path(source.checkpoint)},
          {"decoder", path(source.decoder)},
          {"encoder", path(source.encoder)},
          {"weights", path(source.weights)},
          {"output", decoders::decoder_output_name(source.output)},
          {"layout", decoders::weights_layout_name(source.layout)},
          {"latent_dim", source.latent_dim.value_or(0)},
          {"image_shape", source.image_shape},
          {"device", source.device},
          {"identity", files_identity(model)}};
}

decoders::GenerativeModel open_job_model(const nlohmann::json& job) {
  decoders::ModelSource source;
  source.checkpoint = job.at("checkpoint").get<std::string>();
  source.decoder = job.at("decoder").get<std::string>();
  source.encoder = job.at("encoder").get<std::string>();
  source.weights = job.at("weights").get<std::string>();
  source.output = decoders::parse_decoder_output(job.at("output"));
  source.layout = decoders::parse_weights_layout(job.at("layout"));
  if (job.at("latent_dim").get<int64_t>() > 0) source.latent_dim = job.at("latent_dim");
  source.image_shape = job.at("image_shape").get<std::vector<int64_t>>();
  source.device = rank_device(job.at("device"));
  auto model = decoders::open_model(source);
  require(files_identity(model) == job.at("identity"),
          "the model files this rank reads are not rank 0's (another SHA-256)",
          "give every machine the same files at the same paths");
  return model;
}

void serve_jobs(const InvertStep* invert, const std::vector<std::string>& methods) {
  cluster::serve([&](const std::string& bytes) -> cluster::ChunkSolver {
    nlohmann::json job;
    try {
      job = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception&) {
      throw UserError("rank 0 sent a job this rank cannot read");
    }
    const std::string command = job.value("command", "");
    // Jobs that carry all they need; an inversion's settings come from this rank's command line.
    if (command == "certify") return open_certificate_job(job);
    if (command == "encode") return open_encode_job(job);
    if (command == "likelihood") return open_likelihood_job(job);
    if (command == "bench-solvers") return open_benchmark_job(job);
    require(command == "invert" && invert != nullptr,
            fmt::format("rank 0 asked for a job ('{}') this rank's command does not do", command),
            "give every rank the same command line");
    return open_inversion_job(job, *invert, methods);
  });
}

}  // namespace preimage::pipeline
