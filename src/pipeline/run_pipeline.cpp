#include "pipeline/run_pipeline.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/checkpoint.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/encode_step.h"
#include "pipeline/run_model.h"
#include "pipeline/report_step.h"
#include "pipeline/summary.h"
#include "pipeline/threads.h"
#include "solvers/registry.h"
#include "util/atomic_file.h"
#include "util/config_table.h"
#include "util/error.h"

namespace preimage::pipeline {
namespace {

// Uses the checkpoint `job.model` instead of training: records it in the run.
void use_checkpoint(run::RunFolder& run, const RunJob& job) {
  // Architecture flags given with --model must agree with the checkpoint.
  auto expected = job.train.vae;
  if (job.architecture_given) {
    const auto stored = model::VaeConfig::from_json(
        model::read_checkpoint_record(job.model).at("architecture"));
    expected.image_height = stored.image_height;
    expected.image_width = stored.image_width;
  }
  auto vae = model::load_vae(job.model, job.architecture_given ? &expected : nullptr);
  run.set_model({std::filesystem::absolute(job.model), vae->config().to_json(), std::nullopt});
  run.save_manifest();
}

// Records RUN/model.pt, trained earlier with the same settings, when the manifest lost it.
void reuse_model(run::RunFolder& run) {
  spdlog::info("reusing {} (same architecture and training settings; --retrain to train again)",
               (run.path() / "model.pt").string());
  std::error_code ignored;  // a kill between storing the model and removing the state left it
  std::filesystem::remove(train_state_path(run), ignored);
  if (run.has_model() && run.model().path == "model.pt") return;
  const auto record = model::read_checkpoint_record(run.path() / "model.pt");
  run::TrainingRecord training;
  training.settings = record.at("meta").at("train");
  training.images = record.at("meta").value("train_images", "");
  training.data = record.at("meta").value("data", "");
  training.selection = record.at("meta").value("selection", nlohmann::json());
  run.set_model({"model.pt", record.at("architecture"), training});
  run.save_manifest();
}

}  // namespace

std::vector<std::string> RunJob::method_list() const {
  return methods.empty() ? std::vector<std::string>{invert.method} : methods;
}

nlohmann::json RunJob::to_json() const {
  const auto list = method_list();
  nlohmann::json j = {
      {"out", out.string()},
      {"images", images},
      {"data", train.data.source},
      {"invert", solvers::settings_json(list.front(),
                                        solvers::settings_for(list.front(), invert.settings))},
      {"methods", list},
      {"loss", solvers::loss_kind_name(invert.loss.kind)}};
  if (!source.empty()) {  // an imported model: nothing is trained
    j["model"] = source.kind() + " " +
                 (source.decoder.empty() ? source.weights : source.decoder).string();
    j["device"] = source.device;
  } else {
    j["model"] = model.empty() ? "train" : model;
    j["train"] = train.train.to_json();
    j["vae"] = train.vae.to_json();
  }
  return j;
}

void check_run_job(const RunJob& job) {
  require(job.model.empty() || job.source.empty(),
          "give one model: --model (a preimage checkpoint) or --decoder / --weights, not both");
  for (const auto& method : job.method_list()) {
    InvertStep step = job.invert;
    step.method = method;
    step.request();  // every method's settings in range
  }
  solvers::check_loss_spec(job.invert.loss);
  check_parallelism(job.invert.chunk_size, job.invert.workers);
  require(job.train.eval_images == "none" || !job.train.eval_images.empty(),
          "--eval-images must be a range or none");
  const auto n_train = data::dataset_size(job.train.data);
  data::resolve_range(data::parse_range(job.images), n_train, job.train.data.source);
  // The model's latent dimension and encoder, known before anything is trained, so that every
  // method is checked against them first.
  int64_t latent_dim = job.train.vae.latent_dim;
  bool has_encoder = true;
  if (!job.source.empty()) {  // the model opens and fits the images
    const auto model = decoders::open_model(job.source);
    require_model_fits(model, data::load_dataset(job.train.data, {0, 1}), "the images");
    latent_dim = model.latent_dim();
    has_encoder = model.has_encoder();
  } else if (!job.model.empty()) {
    latent_dim = model::load_vae(job.model)->config().latent_dim;  // checked whole, before training
  } else {
    job.train.vae.check_sizes("the flags");
  }
  for (const auto& method : job.method_list())
    solvers::require_method_fits(method, job.invert.start, latent_dim, has_encoder);
  if (job.report) require_report_tools();
}

void run_pipeline(const RunJob& job) {
  check_run_job(job);
  auto run = run::RunFolder::create(job.out);
  const auto config = job.to_json();
  util::print_config("run", config);
  run.set_run_config(config);

  if (!job.source.empty()) {
    adopt_model(run, job.source);
  } else if (!job.model.empty()) {
    use_checkpoint(run, job);
  } else if (!job.retrain && has_matching_model(run, job.train)) {
    reuse_model(run);
  } else {
    train_model(run, job.train);
  }

  EncodeStep encode;
  encode.data = job.train.data;
  encode.images = job.images;
  encode.model.device = job.source.device;
  encode_images(run, encode);
  for (const auto& method : job.method_list()) {
    InvertStep step = job.invert;
    step.method = method;
    step.model.device = job.source.device;  // the run's model, on the job's device
    invert_run(run, step);
  }
  const auto summary = summarize(run);
  util::write_file_atomic(run.path() / "summary.json", summary.dump(2) + "\n");
  print_summary(summary);
  if (job.analyze) analyze_and_print(run, job.analysis);
  if (job.report) print_report_output(write_report(run, {}));
}

void serve_run(const RunJob& job) {
  InvertStep step = job.invert;
  step.model.device = job.source.device;
  serve_jobs(&step, job.method_list());
}

}  // namespace preimage::pipeline
