// preimage invert: step 3 of the thesis, the decoder's empirical preimage.
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cluster/world.h"
#include "pipeline/certify_step.h"
#include "pipeline/cluster_jobs.h"
#include "pipeline/invert_step.h"
#include "pipeline/shard_step.h"
#include "pipeline/summary.h"
#include "util/error.h"

namespace preimage::cli {

void add_invert_command(CLI::App& app) {
  struct Config {
    pipeline::InvertStep step;
    std::string run;
    std::string shard;  // "k/n": only the k-th of n parts of the run's images
    std::string out;    // with --shard: the part's own run folder
    DataFlags data;     // only --image-shape matters: a model's flat output
    ModelFlags model;
    bool certify = false;  // then prove the solutions global optima (certify_step.h)
    double certify_tol = certify::CertifyOptions{}.tolerance;
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand("invert", "Invert the decoder for the run's images");
  cmd->add_option("run", cfg->run, "Run folder (after train and encode)")->required();
  add_invert_options(*cmd, cfg->step);
  add_model_options(*cmd, cfg->step.model, cfg->model);
  cmd->add_option("--shard", cfg->shard,
                  "Only the k-th of n parts of the run's images: k/n (with --out; join the parts "
                  "with preimage merge)");
  cmd->add_option("--out", cfg->out, "With --shard: the part's own run folder (created)");
  auto* certify_flag = cmd->add_flag("--certify", cfg->certify,
                "Then prove per image that the solution is the global optimum over the grid's "
                "box, or give the gap (as preimage certify RUN --method M; dense ReLU decoders, "
                "L <= 3)");
  cmd->add_option("--certify-tol", cfg->certify_tol,
                  "With --certify: the relative gap certified")
      ->capture_default_str()
      ->needs(certify_flag);
  cmd->callback([cfg] {
    finish_model_options(cfg->step.model, cfg->model, cfg->data);
    cfg->step.request();  // the settings checked before anything is opened
    pipeline::CertifyConfig certificate;
    certificate.options.tolerance = cfg->certify_tol;
    certificate.options.radius =
        cfg->step.settings.grid_radius.value_or(solvers::GridOptions{}.radius);
    if (cfg->certify) certificate.check();
    if (cluster::World::get().distributed() && !cluster::World::get().coordinator())
      return pipeline::serve_jobs(&cfg->step);  // rank 0 reads and writes; this rank solves
    const auto finish = [&](run::RunFolder& folder) {
      pipeline::print_summary(pipeline::summarize(folder, cfg->step.method));
      if (cfg->certify)
        pipeline::print_certificate(
            pipeline::certify_run(folder, cfg->step.method, certificate));
    };
    // A shard only reads the whole run (shards of one run are inverted at once).
    auto run = run::RunFolder::open(cfg->run, cfg->shard.empty() ? run::Access::kWrite
                                                                 : run::Access::kRead);
    if (cfg->shard.empty()) {
      require(cfg->out.empty(), "--out is only for --shard",
              "drop --out: invert writes into the run folder");
      pipeline::invert_run(run, cfg->step);
      finish(run);
      return;
    }
    require(!cfg->out.empty(), fmt::format("--shard {} needs --out PART_FOLDER", cfg->shard),
            "each part is inverted into a run folder of its own, e.g. --out RUN.part0");
    auto part = pipeline::make_shard(run, cfg->shard, cfg->out);
    pipeline::invert_run(part, pipeline::shard_step(part, cfg->step));
    finish(part);
  });
}

}  // namespace preimage::cli
