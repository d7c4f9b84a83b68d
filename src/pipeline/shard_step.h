#pragma once
// Splitting an inversion across processes or machines, and joining the parts:
//   preimage invert RUN --shard k/n --out PART_k   inverts the k-th of n parts of RUN's images
//                                                  into a run folder of its own;
//   preimage merge OUT PART_0 ... PART_{n-1}        joins the parts into one run folder, identical
//                                                  to inverting RUN unsplit.
// A part records which run it came from, so merging parts of different runs (another model,
// other settings, other images) or an incomplete set (a part missing or given twice) fails
// before anything is written.
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/invert_step.h"
#include "run/run_folder.h"

namespace preimage::pipeline {

// Creates the run folder `out` holding the k-th of n parts of `parent`'s images: their indices,
// labels and encoder latents (MT), and the parent's model by absolute path. `shard` is "k/n".
run::RunFolder make_shard(const run::RunFolder& parent, const std::string& shard,
                          const std::filesystem::path& out);

// The offset of a shard's first image in its parent run (0 for a run that is no shard).
int64_t shard_offset(const run::RunFolder& run);

// `step` for the part `part`: its curve images, positions in the whole run, made positions in
// the part.
InvertStep shard_step(const run::RunFolder& part, InvertStep step);

// Checks that `parts` are the n parts of one run, each once, with the same model, images and
// method settings; throws UserError naming the first difference. Returns them in shard order.
std::vector<run::RunFolder> check_shards(const std::vector<std::filesystem::path>& parts);

// Joins the parts into the run folder `out` (created): latents, per-image arrays, curves,
// thesis files, results.csv and a manifest as an unsplit run writes them.
void merge_shards(const std::vector<std::filesystem::path>& parts, const std::filesystem::path& out);

}  // namespace preimage::pipeline
