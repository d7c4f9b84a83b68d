// A run folder's manifest.json: parsed, then every typed record read from it (each on its own,
// so that one refused record does not hide the others).
#include <torch/torch.h>

#include "fuzz_support.h"
#include "run/run_folder.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::write_scratch("run/manifest.json", bytes);
  std::optional<run::RunFolder> run;
  if (!fuzz::accepted([&] { run.emplace(run::RunFolder::open(fuzz::scratch_dir() / "run")); }))
    return 0;
  fuzz::accepted([&] { (void)run->images(); });
  fuzz::accepted([&] { (void)run->encode(); });
  fuzz::accepted([&] { (void)run->model(); });
  fuzz::accepted([&] { (void)run->model_path(); });
  fuzz::accepted([&] { (void)run->shard(); });
  fuzz::accepted([&] { (void)run->analysis(); });
  fuzz::accepted([&] {
    for (const auto& name : run->methods()) {
      const auto record = run->method(name);
      (void)record.loss();
    }
  });
  return 0;
}
