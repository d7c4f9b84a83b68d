// preimage encode: step 2 of the thesis, the encoder's latent space MT.
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cluster/world.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/encode_step.h"
#include "util/error.h"

namespace preimage::cli {

void add_encode_command(CLI::App& app) {
  struct Config {
    pipeline::EncodeStep step;
    std::string run;
    DataFlags data;
    ModelFlags model;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "encode", "Record the run's images and encode them with its model's encoder: "
                "latents/MT.npy");
  cmd->add_option("run", cfg->run,
                  "Run folder holding a model (or a new one, with --decoder or --weights)")
      ->required();
  add_data_options(*cmd, cfg->step.data, cfg->data);
  add_model_options(*cmd, cfg->step.model, cfg->model);
  cmd->add_option("--images", cfg->step.images, "Images: N (first N), A:B, or all")
      ->capture_default_str();
  cmd->add_option("--shard", cfg->step.shard, "Only part k of n of the range: k/n");
  cmd->add_option("--batch-size", cfg->step.batch_size,
                  "Images encoded together, each batch with one BLAS thread, the batches on the "
                  "BLAS's threads or MPI ranks (the same bytes anywhere)")
      ->capture_default_str();
  cmd->callback([cfg, cmd] {
    // rank 0 reads and writes; this rank encodes batches
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(nullptr);
    require(cfg->step.batch_size > 0,
            fmt::format("--batch-size must be positive, got {}", cfg->step.batch_size));
    finish_data_options(cfg->step.data, cfg->data);
    finish_model_options(cfg->step.model, cfg->model, cfg->data);
    // With a model given, the run folder may be new: encode records the model in it.
    auto run = cfg->step.model.empty() ? run::RunFolder::open(cfg->run)
                                       : run::RunFolder::create(cfg->run);
    // Without a choice of images, a run that has some encodes its own again (not MNIST's first
    // 5000, which would leave its methods' results on other images).
    bool chose_images = cmd->count("--images") > 0 || cmd->count("--shard") > 0;
    for (const char* flag :
         {"--data", "--split", "--labels", "--binarize", "--image-shape"})
      chose_images = chose_images || cmd->count(flag) > 0;
    if (!chose_images && run.has_images()) {
      const auto recorded = run.images();
      const auto data_dir = cfg->step.data.data_dir;
      cfg->step.data = recorded.spec;
      if (cmd->count("--data-dir") > 0) cfg->step.data.data_dir = data_dir;  // moved data
      cfg->step.images = recorded.range.str();
    }
    pipeline::encode_images(run, cfg->step);
  });
}

}  // namespace preimage::cli
