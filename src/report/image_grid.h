#pragma once
// Digit panels: greyscale images in a grid, enlarged by nearest neighbour, written as PNG with
// stb_image_write. Captions live in the HTML around the image.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace preimage::report {

namespace fs = std::filesystem;

// An 8-bit greyscale picture, row-major.
struct Raster {
  int width = 0;                // pixels
  int height = 0;               // pixels
  std::vector<uint8_t> pixels;  // (height, width)
  uint8_t at(int row, int col) const { return pixels[static_cast<size_t>(row) * width + col]; }
};

struct GridOptions {
  int scale = 3;                 // each image pixel becomes scale x scale pixels (28 -> 84)
  int separator = 2;             // pixels between neighbouring images (0: none)
  float separator_value = 0.6f;  // grey of the separator in [0, 1]: visible on black and on white
  bool invert = false;           // 1 - value: dark digits on white paper
};

// Lays out rows x cols images of height x width floats in [0, 1] (values outside are clamped,
// NaN shows as 0). images: (rows * cols, height * width), image r * cols + c at row r (from the
// top), column c. The result is
//   cols * width * scale + (cols - 1) * separator  wide and
//   rows * height * scale + (rows - 1) * separator high.
// Throws std::invalid_argument if images.size() is not rows * cols * height * width.
Raster grid_raster(const std::vector<float>& images, int rows, int cols, int height, int width,
                   const GridOptions& options = {});

// Options for a "manifold" image: the decoder evaluated on a regular grid of the latent plane,
// tiles touching (no separator), at the images' own size.
GridOptions manifold_options();

// Encodes `raster` as PNG and writes it atomically to `png`. Throws UserError on failure.
void write_png(const fs::path& png, const Raster& raster);

// grid_raster + write_png: e.g. one row per target, "target | D(MN) | D(MT) | D(MB)".
void write_image_grid(const fs::path& png, const std::vector<float>& images, int rows, int cols,
                      int height, int width, const GridOptions& options = {});

// A manifold: decoded[r * cols + c] is the decoding of the latent grid point drawn at row r from
// the top (the largest second coordinate first, so "up" is up) and column c.
void write_manifold(const fs::path& png, const std::vector<float>& decoded, int rows, int cols,
                    int height, int width, int scale = 1);

}  // namespace preimage::report
