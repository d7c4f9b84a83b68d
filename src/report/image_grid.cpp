#include "report/image_grid.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
// Debian's libstb ships the implementation compiled; only the declarations are included here.
#include <stb/stb_image_write.h>
// stb_easy_font is header-only and all static; this file uses only part of it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

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

// ---- labels: stb_easy_font's quads filled into the raster ---------------------------------------

constexpr int kFontHeight = 9;    // font pixels from the top of a capital to the bottom of a 'g'
constexpr int kLabelPadding = 2;  // font pixels of paper around a label, on each side
constexpr int kQuadBytes = 64;    // stb_easy_font's vertex data per quad: 4 x (x, y, z, colour)
constexpr int kMaxQuadsPerChar = 24;  // more than any glyph of stb_easy_font uses ('@' is ~15)
const std::string kCutMark = "..";    // ends a label that was cut to fit

// `text` with every byte the font cannot draw (it covers ASCII 32 to 126) replaced by '?'; its
// tables would be read out of bounds otherwise.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  }
  return out;
}

// Width of printable `text` in font pixels, the gap after the last character included.
int text_width(std::string text) {
  return text.empty() ? 0 : stb_easy_font_width(text.data());
}

// Printable `text`, cut and ended with ".." if it is wider than `max_width` font pixels.
std::string fit_text(const std::string& text, int max_width) {
  if (text_width(text) <= max_width) return text;
  for (size_t keep = text.size(); keep-- > 0;) {
    const std::string cut = text.substr(0, keep) + kCutMark;
    if (text_width(cut) <= max_width) return cut;
  }
  return "";
}

// A rectangle of the raster: columns [left, right), rows [top, bottom).
struct Box {
  int left = 0, top = 0, right = 0, bottom = 0;
};

// Draws printable `text` with its top-left font pixel at (x, y), each font pixel `scale` x `scale`
// raster pixels of value `ink`, nothing outside `clip`.
void draw_text(Raster& raster, std::string text, int x, int y, int scale, uint8_t ink,
               const Box& clip) {
  if (text.empty()) return;
  // Floats, so that the vertex data the font writes through float pointers is aligned.
  std::vector<float> vertices(text.size() * kMaxQuadsPerChar * kQuadBytes / sizeof(float));
  const int quads = stb_easy_font_print(0, 0, text.data(), /*color=*/nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(float)));
  const int floats_per_vertex = 4, floats_per_quad = 4 * floats_per_vertex;
  for (int q = 0; q < quads; ++q) {
    // Vertex 0 is a quad's top-left corner, vertex 2 its bottom-right (exclusive) corner.
    const float* quad = vertices.data() + static_cast<size_t>(q) * floats_per_quad;
    const float* corner = quad + 2 * floats_per_vertex;
    const int left = std::max(clip.left, x + static_cast<int>(std::lround(quad[0])) * scale);
    const int top = std::max(clip.top, y + static_cast<int>(std::lround(quad[1])) * scale);
    const int right = std::min(clip.right, x + static_cast<int>(std::lround(corner[0])) * scale);
    const int bottom = std::min(clip.bottom, y + static_cast<int>(std::lround(corner[1])) * scale);
    for (int row = top; row < bottom; ++row) {
      for (int col = left; col < right; ++col) {
        raster.pixels[static_cast<size_t>(row) * raster.width + col] = ink;
      }
    }
  }
}

// Fills `box` with `value`.
void fill(Raster& raster, const Box& box, uint8_t value) {
  for (int row = box.top; row < box.bottom; ++row) {
    std::fill_n(raster.pixels.begin() + static_cast<std::ptrdiff_t>(row) * raster.width + box.left,
                box.right - box.left, value);
  }
}

void check_label_count(const std::vector<std::string>& labels, int expected, const char* what) {
  if (!labels.empty() && static_cast<int>(labels.size()) != expected) {
    throw std::invalid_argument(fmt::format(
        "image grid: {} {} labels given for {} {}s; give one per {} (an empty string leaves one "
        "bare), or none",
        labels.size(), what, expected, what, what));
  }
}

}  // namespace

GridMargins grid_margins(const GridOptions& options) {
  if (options.label_scale <= 0 || options.label_width < 0) {
    throw std::invalid_argument(
        fmt::format("image grid: label_scale {} must be positive and label_width {} >= 0 (0: as "
                    "wide as the longest row label)",
                    options.label_scale, options.label_width));
  }
  const int s = options.label_scale;
  GridMargins margins;
  if (!options.row_labels.empty()) {
    int area = options.label_width;
    if (area == 0) {
      int longest = 0;
      for (const auto& label : options.row_labels)
        longest = std::max(longest, text_width(printable(label)));
      area = (longest + 2 * kLabelPadding) * s;
    }
    margins.left = area + options.separator;
  }
  if (!options.column_labels.empty()) {
    margins.top = (kFontHeight + 2 * kLabelPadding) * s + options.separator;
  }
  return margins;
}

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
  check_label_count(options.row_labels, rows, "row");
  check_label_count(options.column_labels, cols, "column");
  const GridMargins margins = grid_margins(options);
  const int s = options.scale, sep = options.separator;
  Raster raster;
  raster.width = margins.left + cols * width * s + (cols - 1) * sep;
  raster.height = margins.top + rows * height * s + (rows - 1) * sep;
  raster.pixels.assign(static_cast<size_t>(raster.width) * raster.height,
                       to_byte(options.separator_value, /*invert=*/false));

  // Labels: the images' ink on their paper, in margins that end with a separator.
  const uint8_t paper = to_byte(0.0f, options.invert), ink = to_byte(1.0f, options.invert);
  const int ls = options.label_scale, pad = kLabelPadding * ls;
  if (margins.top > 0) fill(raster, {0, 0, raster.width, margins.top - sep}, paper);
  if (margins.left > 0) fill(raster, {0, 0, margins.left - sep, raster.height}, paper);
  for (int r = 0; r < static_cast<int>(options.row_labels.size()); ++r) {
    const Box cell{0, margins.top + r * (height * s + sep), margins.left - sep,
                   margins.top + r * (height * s + sep) + height * s};
    const std::string text =
        fit_text(printable(options.row_labels[r]), (cell.right - cell.left - 2 * pad) / ls);
    const int y = cell.top + std::max(0, (height * s - kFontHeight * ls) / 2);
    draw_text(raster, text, cell.left + pad, y, ls, ink, cell);
  }
  for (int c = 0; c < static_cast<int>(options.column_labels.size()); ++c) {
    const Box cell{margins.left + c * (width * s + sep), 0,
                   margins.left + c * (width * s + sep) + width * s, margins.top - sep};
    const std::string text =
        fit_text(printable(options.column_labels[c]), (cell.right - cell.left - 2 * pad) / ls);
    const int x = cell.left + std::max(0, (width * s - text_width(text) * ls) / 2);
    draw_text(raster, text, x, cell.top + pad, ls, ink, cell);
  }

  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const float* image = images.data() + (static_cast<size_t>(r) * cols + c) * image_size;
      const int top = margins.top + r * (height * s + sep),
                left = margins.left + c * (width * s + sep);
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
