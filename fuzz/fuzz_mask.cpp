// The completion mask reader: PNG files (decoded by stb after their size is checked) and .npy.
#include <stb/stb_image.h>
#include <torch/torch.h>

#include "data/mask.h"
#include "fuzz_support.h"

using namespace preimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] { torch::set_num_threads(1); return true; }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::accepted([&] { data::parse_image_mask(bytes, "fuzz.png", 28, 28); });
  // Also at the size the image claims (when small), so its pixels get decoded.
  int w = 0, h = 0, channels = 0;
  if (size < (1u << 20) &&
      stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &channels) != 0 && w > 0 &&
      h > 0 && int64_t{w} * h <= 4096) {
    fuzz::accepted([&] { data::parse_image_mask(bytes, "fuzz.png", h, w); });
  }
  if (bytes.compare(0, 6, "\x93NUMPY") == 0)
    fuzz::accepted([&] { data::read_mask(fuzz::write_scratch("mask.npy", bytes), 28, 28); });
  return 0;
}
