#pragma once
// Digit panels: greyscale images in a grid, enlarged by nearest neighbour, written as PNG with
// stb_image_write. Optional row and column labels are drawn on the raster (stb_easy_font's 7-pixel
// bitmap font, enlarged), so a reader tells "target" from "D(MN)" without the caption; the caption
// still lives in the HTML around the image.
#include <cstdint>
#include <filesystem>
#include <string>
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
  // Labels are drawn in the images' ink on their paper (white on black; black on white with
  // `invert`), in margins left of and above the images, each margin followed by a separator.
  // Printable ASCII; any other byte shows as '?'. An empty string leaves its row or column bare.
  std::vector<std::string> row_labels;     // one per row (e.g. "target", "D(MN)"), or none
  std::vector<std::string> column_labels;  // one per column (e.g. "#12"), or none
  int label_scale = 2;  // each font pixel becomes label_scale x label_scale (7 -> 14 px capitals)
  // Width in pixels of the row labels' area; 0: as wide as the longest row label. A label that
  // does not fit is cut and ends with "..". Column labels are cut to their column's width.
  int label_width = 0;
};

// What labels add around the images, in pixels, each margin including its separator.
struct GridMargins {
  int left = 0;  // pixels left of the first column of images
  int top = 0;   // pixels above the first row of images
};

// The margins of a grid drawn with `options`:
//   left = 0 without row labels, else label_width + separator, or when label_width is 0,
//          (the longest row label's width in font pixels + 4) * label_scale + separator;
//   top  = 0 without column labels, else 13 * label_scale + separator.
// (The font is 9 pixels high from capitals to descenders, most characters 6 wide with their gap;
// a label has 2 font pixels of paper on each side.)
// Throws std::invalid_argument if label_scale is not positive or label_width is negative.
GridMargins grid_margins(const GridOptions& options);

// Lays out rows x cols images of height x width floats in [0, 1] (values outside are clamped,
// NaN shows as 0). images: (rows * cols, height * width), image r * cols + c at row r (from the
// top), column c. With margins = grid_margins(options), the result is
//   margins.left + cols * width * scale + (cols - 1) * separator  wide and
//   margins.top + rows * height * scale + (rows - 1) * separator  high.
// A row label is centred vertically on its row and clipped to it; a column label is centred on its
// column.
// Throws std::invalid_argument if images.size() is not rows * cols * height * width, or if there
// are labels but not one per row (per column).
Raster grid_raster(const std::vector<float>& images, int rows, int cols, int height, int width,
                   const GridOptions& options = {});

// Options for a "manifold" image: the decoder evaluated on a regular grid of the latent plane,
// tiles touching (no separator), at the images' own size, no labels.
GridOptions manifold_options();

// Encodes `raster` as PNG and writes it atomically to `png`. Throws UserError on failure.
void write_png(const fs::path& png, const Raster& raster);

// grid_raster + write_png: e.g. one row per target, "target | D(MN) | D(MT) | D(MB)", or one row
// per kind with options.row_labels = {"target", "D(MN)", "D(MT)", "D(MB)"}.
void write_image_grid(const fs::path& png, const std::vector<float>& images, int rows, int cols,
                      int height, int width, const GridOptions& options = {});

// A manifold: decoded[r * cols + c] is the decoding of the latent grid point drawn at row r from
// the top (the largest second coordinate first, so "up" is up) and column c.
void write_manifold(const fs::path& png, const std::vector<float>& decoded, int rows, int cols,
                    int height, int width, int scale = 1);

}  // namespace preimage::report
