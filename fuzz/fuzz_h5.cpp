// The HDF5 reader (Keras's .h5 and .weights.h5, through the HDF5 C library, in a child process)
// and the dense weights assembled from what it accepts, as `--weights FILE.h5` reads them. A
// crash or a hang of the HDF5 library on a mangled file must end as the reader's UserError.
#include <torch/torch.h>

#include "data/archives.h"
#include "decoders/dense_weights.h"
#include "fuzz_support.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    torch::set_num_threads(1);
    data::set_hdf5_time_limit(2);  // a hang is the reader's error, within libFuzzer's 25 s
    return true;
  }();
  (void)once;
  const auto path = fuzz::write_scratch("weights.h5", std::string(reinterpret_cast<const char*>(data), size));
  fuzz::accepted([&] { (void)data::read_hdf5_datasets(path); });
  fuzz::accepted([&] {
    const auto weights = decoders::read_dense_weights(path, decoders::WeightsLayout::kAuto);
    if (weights.decoder.weights.empty()) __builtin_trap();  // assembled means at least one layer
  });
  return 0;
}
