// The IDX reader (plain and gzipped) and the data set built on it: images and labels.
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/idx.h"
#include "fuzz_support.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::accepted([&] { data::parse_idx(bytes, "fuzz-labels", 1); });
  const bool images = fuzz::accepted([&] { data::parse_idx(bytes, "fuzz-images", 3); });
  if (images) {  // the data set's own checks on what the reader accepted
    data::DataSpec spec;
    spec.source = fuzz::write_scratch("images-idx3-ubyte", bytes).string();
    fuzz::accepted([&] { data::load_dataset(spec); });
  }
  return 0;
}
