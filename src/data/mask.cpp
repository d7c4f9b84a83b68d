#include "data/mask.h"

#include <stb/stb_image.h>

#include <cstdint>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/tensor_io.h"
#include "util/error.h"
#include "util/input_file.h"
#include "util/npy.h"

namespace preimage::data {
namespace {

const char* const kMaskHint = "give a PNG (grey > 127 = known pixel) or a .npy array of the images' size";

void require_size(int64_t h, int64_t w, int64_t height, int64_t width, const std::string& name) {
  require(h == height && w == width,
          fmt::format("mask '{}' is {}x{} pixels, the images are {}x{}", name, h, w, height, width),
          kMaskHint);
}

// Every chunk of a PNG (length, type, data, CRC) must lie inside the file: stb allocates what a
// chunk's length claims before it looks for the bytes (found by fuzz_mask: an IDAT claiming 2 GB
// in a 131-byte file). Past this, what stb allocates is bounded by the file and the image size.
void check_png_chunks(const std::string& bytes, const std::string& name) {
  size_t at = 8;  // after the signature
  while (true) {
    require(bytes.size() - at >= 12,
            fmt::format("cannot read mask image '{}' (corrupt or truncated): it ends at byte {} "
                        "without the PNG's IEND chunk",
                        name, bytes.size()),
            kMaskHint);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const uint64_t length = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    const std::string type = bytes.substr(at + 4, 4);
    require(length <= bytes.size() - at - 12,
            fmt::format("cannot read mask image '{}' (corrupt or truncated): its chunk at byte {} "
                        "claims {} bytes, the file has {} left",
                        name, at, length, bytes.size() - at - 12),
            kMaskHint);
    at += 12 + static_cast<size_t>(length);
    if (type == "IEND") return;
  }
}

}  // namespace

torch::Tensor parse_image_mask(const std::string& bytes, const std::string& name, int64_t height,
                               int64_t width) {
  require(bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max()),
          fmt::format("mask '{}' is too large for an image", name), kMaskHint);
  // PNG only: stb reads a dozen formats, and each is code an untrusted file could reach.
  require(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0,
          fmt::format("mask '{}' is not a PNG file (it lacks the PNG signature)", name), kMaskHint);
  check_png_chunks(bytes, name);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  // The header's size first: a corrupt or huge image is refused before its pixels are decoded.
  if (stbi_info_from_memory(data, length, &w, &h, &channels) == 0) {
    const char* reason = stbi_failure_reason();
    throw UserError(fmt::format("cannot read mask image '{}': {}", name,
                                reason != nullptr ? reason : "unreadable PNG header"),
                    kMaskHint);
  }
  require_size(h, w, height, width, name);
  std::unique_ptr<stbi_uc, decltype(&stbi_image_free)> pixels(
      stbi_load_from_memory(data, length, &w, &h, &channels, 1), &stbi_image_free);
  if (pixels == nullptr) {
    const char* reason = stbi_failure_reason();
    throw UserError(fmt::format("cannot decode mask image '{}' (corrupt or truncated): {}", name,
                                reason != nullptr ? reason : "unknown error"),
                    kMaskHint);
  }
  require_size(h, w, height, width, name);
  return torch::from_blob(pixels.get(), {h * w}, torch::kUInt8).gt(127).to(torch::kFloat32);
}

torch::Tensor read_mask(const std::filesystem::path& path, int64_t height, int64_t width) {
  const std::string name = path.string();
  const std::string bytes = util::read_input_file(path, "mask file", kMaskHint);
  if (path.extension() != ".npy") return parse_image_mask(bytes, name, height, width);
  const auto mask = tensor_of(util::parse_npy(bytes, name));  // any shape of H*W values
  require(mask.numel() == height * width,
          fmt::format("mask '{}' has shape ({}), {} values; the images have {}x{} pixels", name,
                      fmt::join(mask.sizes(), ", "), mask.numel(), height, width),
          kMaskHint);
  return mask.reshape({-1}).to(torch::kFloat32).ne(0).to(torch::kFloat32).contiguous();
}

}  // namespace preimage::data
