// The .npz reader (libzip, then each member's .npy) and the dense weights assembled from what it
// accepts (layers paired by name, layout told by shape), as `--weights FILE.npz` reads them.
#include <torch/torch.h>

#include "data/archives.h"
#include "decoders/dense_weights.h"
#include "fuzz_support.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const auto path = fuzz::write_scratch("weights.npz", std::string(reinterpret_cast<const char*>(data), size));
  fuzz::accepted([&] {
    for (const auto& [name, tensor] : data::read_npz(path))
      if (name.empty() && tensor.numel() < 0) __builtin_trap();  // touch what was read
  });
  fuzz::accepted([&] {
    const auto weights = decoders::read_dense_weights(path, decoders::WeightsLayout::kAuto);
    if (weights.decoder.weights.empty()) __builtin_trap();  // assembled means at least one layer
  });
  return 0;
}
