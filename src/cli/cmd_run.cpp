// preimage run: the whole thesis pipeline on one command (train, encode, invert, summarize).
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/analyze_options.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "model/checkpoint.h"
#include "solvers/solver.h"
#include "pipeline/encode_step.h"
#include "pipeline/invert_step.h"
#include "pipeline/report_step.h"
#include "pipeline/summary.h"
#include "pipeline/train_step.h"
#include "util/atomic_file.h"

namespace preimage::cli {
namespace {

struct RunConfig {
  std::string out = "runs/default";  // run folder
  std::string images = "5000";       // images to encode and invert (thesis: the first 5000)
  std::string model;                 // an existing checkpoint to use instead of training
  bool retrain = false;              // train even if the run folder has a matching model
  bool no_analyze = false;           // skip `analyze` (analysis.json) at the end
  analysis::AnalyzeConfig analyze;   // its settings (classifier, bonus models, ...)
  bool no_report = false;            // skip the figures and report.html at the end
  std::string preset = "fast";
  std::string loss = "squared-error";
  pipeline::TrainStep train;
  pipeline::InvertStep invert;
  std::vector<std::string> methods;  // several inversion methods, in order (default: --method)
};

// True when RUN/model.pt exists and was trained with the same architecture and settings.
bool has_matching_model(const run::RunFolder& run, const pipeline::TrainStep& step) {
  const auto path = run.path() / "model.pt";
  if (!std::filesystem::exists(path)) return false;
  try {
    const auto record = model::read_checkpoint_record(path);
    auto arch = record.at("architecture");
    auto want = step.vae.to_json();
    arch.erase("image_height"); arch.erase("image_width");
    want.erase("image_height"); want.erase("image_width");
    return arch == want && record.at("meta").at("train") == step.train.to_json() &&
           record.at("meta").at("train_images") == step.train_images;
  } catch (const std::exception&) {
    return false;
  }
}

void execute(RunConfig& cfg, CLI::App& cmd) {
  auto& t = cfg.train.train;
  const auto batch = t.batch_size;
  const auto lr = t.learning_rate;
  const auto epochs = t.epochs;
  t.apply_preset(cfg.preset);
  if (cmd.count("--batch-size")) t.batch_size = batch;
  if (cmd.count("--lr")) t.learning_rate = lr;
  if (cmd.count("--epochs")) t.epochs = epochs;
  finish_invert_options(cmd, cfg.invert, cfg.loss);
  // Fail on bad input before any long work: the folder, the data, the ranges.
  auto run = run::RunFolder::create(cfg.out);
  const auto n_train = data::dataset_size(cfg.train.data);
  data::resolve_range(data::parse_range(cfg.images), n_train, cfg.train.data.source);
  if (!cfg.no_report) pipeline::require_report_tools();

  const nlohmann::json config = {{"out", cfg.out},
                                 {"images", cfg.images},
                                 {"data", cfg.train.data.source},
                                 {"model", cfg.model.empty() ? "train" : cfg.model},
                                 {"train", t.to_json()},
                                 {"vae", cfg.train.vae.to_json()},
                                 {"invert", cfg.invert.request.settings.to_json()},
                                 {"methods", cfg.methods.empty() ? std::vector<std::string>{cfg.invert.request.method} : cfg.methods},
                                 {"loss", cfg.loss}};
  print_config("run", config);
  run.manifest()["run_config"] = config;

  if (!cfg.model.empty()) {
    // Architecture flags given with --model must agree with the checkpoint.
    const bool arch_flags = cmd.count("--latent-dim") + cmd.count("--hidden-width") +
                            cmd.count("--encoder-depth") + cmd.count("--decoder-depth") > 0;
    auto expected = cfg.train.vae;
    if (arch_flags) {
      const auto stored = model::VaeConfig::from_json(
          model::read_checkpoint_record(cfg.model).at("architecture"));
      expected.image_height = stored.image_height;
      expected.image_width = stored.image_width;
    }
    auto vae = model::load_vae(cfg.model, arch_flags ? &expected : nullptr);
    run.manifest()["model"] = {{"path", std::filesystem::absolute(cfg.model).string()},
                               {"architecture", vae->config().to_json()}};
    run.save_manifest();
  } else if (!cfg.retrain && has_matching_model(run, cfg.train)) {
    spdlog::info("reusing {} (same architecture and training settings; --retrain to train again)",
                 (run.path() / "model.pt").string());
  } else {
    pipeline::train_model(run, cfg.train);
  }

  pipeline::EncodeStep encode;
  encode.data = cfg.train.data;
  encode.images = cfg.images;
  pipeline::encode_images(run, encode);
  if (cfg.methods.empty()) cfg.methods = {cfg.invert.request.method};
  for (const auto& method : cfg.methods) {
    pipeline::InvertStep step = cfg.invert;
    step.request.method = method;
    finish_invert_options(cmd, step, cfg.loss);  // the method's own defaults
    pipeline::invert_run(run, step);
  }
  const auto summary = pipeline::summarize(run);
  util::write_file_atomic(run.path() / "summary.json", summary.dump(2) + "\n");
  pipeline::print_summary(summary);
  if (!cfg.no_analyze) run_analysis(run, cfg.analyze);
  if (!cfg.no_report) pipeline::print_report_output(pipeline::write_report(run, {}));
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto cfg = std::make_shared<RunConfig>();
  auto* cmd = app.add_subcommand(
      "run", "The whole pipeline: train (or reuse) the VAE, encode, invert, summarize");
  cmd->add_option("--out", cfg->out, "Run folder (created if needed)")->capture_default_str();
  cmd->add_option("--images", cfg->images,
                  "Images to encode and invert: N (the first N), A:B, or all")
      ->capture_default_str();
  cmd->add_option("--model", cfg->model, "Use this VAE checkpoint instead of training one");
  cmd->add_flag("--retrain", cfg->retrain, "Train even if the run folder has a matching model");
  cmd->add_option("--seed", cfg->train.train.seed, "Seed of all randomness")->capture_default_str();
  add_data_options(*cmd, cfg->train.data);
  add_vae_options(*cmd, cfg->train.vae);
  add_train_options(*cmd, cfg->train.train, cfg->preset);
  cmd->add_option("--train-images", cfg->train.train_images, "Range of training images")
      ->capture_default_str();
  cmd->add_option("--eval-images", cfg->train.eval_images,
                  "Range of test images for the per-epoch test ELBO, or none")
      ->capture_default_str();
  add_invert_options(*cmd, cfg->invert, cfg->loss);
  cmd->add_option("--methods", cfg->methods,
                  "Several inversion methods, one after another, e.g. adafactor,lbfgs,grid "
                  "(default: --method)")
      ->delimiter(',')
      ->check(CLI::IsMember(solvers::solver_names()));
  cmd->add_flag("--no-report", cfg->no_report,
                "Skip the figures and the report (preimage report RUN writes them later)");
  cmd->add_flag("--no-analyze", cfg->no_analyze,
                "Skip the analysis (preimage analyze RUN writes analysis.json later)");
  add_analyze_options(*cmd, cfg->analyze);
  cmd->callback([cfg, cmd] { execute(*cfg, *cmd); });
}

}  // namespace preimage::cli
