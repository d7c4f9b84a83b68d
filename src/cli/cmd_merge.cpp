// preimage merge: join the shard run folders of one `invert --shard k/n` series into one run.
#include <memory>

#include "cli/commands.h"
#include "pipeline/shard_step.h"
#include "pipeline/summary.h"

namespace preimage::cli {

void add_merge_command(CLI::App& app) {
  struct Config {
    std::string out;                 // the merged run folder
    std::vector<std::string> parts;  // shard run folders, in any order
  };
  auto cfg = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "merge", "Join the parts of preimage invert --shard k/n into one run folder, identical to "
               "an unsplit run");
  cmd->add_option("out", cfg->out, "Merged run folder (created)")->required();
  cmd->add_option("parts", cfg->parts, "The shard run folders, every k of k/n once")
      ->required();
  cmd->callback([cfg] {
    std::vector<std::filesystem::path> parts(cfg->parts.begin(), cfg->parts.end());
    pipeline::merge_shards(parts, cfg->out);
    auto run = run::RunFolder::open(cfg->out);
    pipeline::print_summary(pipeline::summarize(run));
  });
}

}  // namespace preimage::cli
