// The shard records of `preimage merge`: the input is the manifests of up to three parts,
// separated by a line "--part--"; merge's checks run on them as they do before writing anything.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "pipeline/shard_step.h"
#include "run/run_folder.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const auto manifests = fuzz::split(std::string(reinterpret_cast<const char*>(data), size),
                                     "\n--part--\n");
  std::vector<std::filesystem::path> parts;
  for (size_t i = 0; i < manifests.size() && i < 3; ++i) {
    const auto manifest = fuzz::write_scratch("part" + std::to_string(i) + "/manifest.json", manifests[i]);
    parts.push_back(manifest.parent_path());
  }
  fuzz::accepted([&] { pipeline::check_shards(parts); });
  fuzz::accepted([&] { (void)pipeline::shard_offset(run::RunFolder::open(parts.front())); });
  return 0;
}
