// The .npy reader and the tensor made from what it accepts (C and Fortran order).
#include <torch/torch.h>

#include "data/tensor_io.h"
#include "fuzz_support.h"
#include "util/npy.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::accepted([&] {
    const auto array = util::parse_npy(bytes, "fuzz.npy");
    const auto tensor = data::tensor_of(array);
    if (tensor.numel() != array.numel()) __builtin_trap();  // the reader's promise
  });
  return 0;
}
