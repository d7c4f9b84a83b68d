#include "report/image_grid.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
// Debian's libstb ships the implementation compiled; only the declarations are included here.
#include <stb/stb_image_write.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::report {

namespace {

uint8_t to_byte(float value, bool invert) {
  float v = std::isnan(value) ? 0.0f : std::clamp(value, 0.0f, 1.0f);
  if (invert) v = 1.0f - v;
  return static_cast<uint8_t>(std::lround(v * 255.0f));
}

void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

}  // namespace

Raster grid_raster(const std::vector<float>& images, int rows, int cols, int height, int width,
                   const GridOptions& options) {
  if (rows <= 0 || cols <= 0 || height <= 0 || width <= 0 || options.scale <= 0 ||
      options.separator < 0) {
    throw std::invalid_argument(
        fmt::format("image grid: rows {}, cols {}, height {}, width {}, scale {} must be positive, "
                    "separator {} >= 0",
                    rows, cols, height, width, options.scale, options.separator));
  }
  const size_t image_size = static_cast<size_t>(height) * width;
  const size_t expected = static_cast<size_t>(rows) * cols * image_size;
  if (images.size() != expected) {
    throw std::invalid_argument(
        fmt::format("image grid: {} values given, {} x {} images of {} x {} need {}", images.size(),
                    rows, cols, height, width, expected));
  }
  const int s = options.scale, sep = options.separator;
  Raster raster;
  raster.width = cols * width * s + (cols - 1) * sep;
  raster.height = rows * height * s + (rows - 1) * sep;
  raster.pixels.assign(static_cast<size_t>(raster.width) * raster.height,
                       to_byte(options.separator_value, /*invert=*/false));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float* image = images.data() + (static_cast<size_t>(r) * cols + c) * image_size;
      const int top = r * (height * s + sep), left = c * (width * s + sep);
      for (int i = 0; i < height * s; ++i) {
        uint8_t* out = raster.pixels.data() + static_cast<size_t>(top + i) * raster.width + left;
        const float* in = image + static_cast<size_t>(i / s) * width;
        for (int j = 0; j < width * s; ++j) out[j] = to_byte(in[j / s], options.invert);
      }
    }
  }
  return raster;
}

GridOptions manifold_options() {
  GridOptions options;
  options.scale = 1;
  options.separator = 0;
  return options;
}

void write_png(const fs::path& png, const Raster& raster) {
  if (raster.width <= 0 || raster.height <= 0 ||
      raster.pixels.size() != static_cast<size_t>(raster.width) * raster.height) {
    throw std::invalid_argument(fmt::format("write_png '{}': raster {} x {} with {} pixels",
                                            png.string(), raster.width, raster.height,
                                            raster.pixels.size()));
  }
  std::string bytes;
  const int ok =
      stbi_write_png_to_func(append_to_string, &bytes, raster.width, raster.height,
                             /*comp=*/1, raster.pixels.data(), /*stride_bytes=*/raster.width);
  require(ok != 0 && !bytes.empty(), fmt::format("cannot encode the PNG '{}'", png.string()),
          "is the system out of memory?");
  util::write_file_atomic(png, bytes);
}

void write_image_grid(const fs::path& png, const std::vector<float>& images, int rows, int cols,
                      int height, int width, const GridOptions& options) {
  write_png(png, grid_raster(images, rows, cols, height, width, options));
}

void write_manifold(const fs::path& png, const std::vector<float>& decoded, int rows, int cols,
                    int height, int width, int scale) {
  GridOptions options = manifold_options();
  options.scale = scale;
  write_png(png, grid_raster(decoded, rows, cols, height, width, options));
}

}  // namespace preimage::report
