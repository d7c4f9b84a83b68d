// Digit panels: layout arithmetic, pixel values, row and column labels, and the PNG that stb
// writes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "report/image_grid.h"
#include "report_test_util.h"

namespace preimage::report {
namespace {

using testing::read_png_header;
using ImageGridTest = testing::ScratchTest;

// rows x cols images of h x w; image k is filled with value (k + 1) / (rows * cols).
std::vector<float> numbered_images(int rows, int cols, int h, int w) {
  std::vector<float> images;
  const int n = rows * cols;
  for (int k = 0; k < n; ++k)
    images.insert(images.end(), static_cast<size_t>(h) * w, (k + 1.0f) / n);
  return images;
}

TEST(ImageGrid, DimensionsFollowScaleAndSeparator) {
  GridOptions options;
  options.scale = 3;
  options.separator = 2;
  const Raster r = grid_raster(numbered_images(2, 4, 28, 28), 2, 4, 28, 28, options);
  EXPECT_EQ(r.width, 4 * 28 * 3 + 3 * 2);   // 342
  EXPECT_EQ(r.height, 2 * 28 * 3 + 1 * 2);  // 170
  EXPECT_EQ(r.pixels.size(), static_cast<size_t>(r.width) * r.height);
  const GridMargins none = grid_margins(options);
  EXPECT_EQ(none.left, 0);  // no labels: no margins, the layout of old
  EXPECT_EQ(none.top, 0);
}

TEST(ImageGrid, PixelsLandInTheirCellAndSeparatorsAreGrey) {
  GridOptions options;
  options.scale = 2;
  options.separator = 1;
  options.separator_value = 0.5f;
  // 1 x 2 images of 2 x 2: left image [0, 1; 1, 0.5], right image all 0.25.
  const std::vector<float> images = {0.0f, 1.0f, 1.0f, 0.5f, 0.25f, 0.25f, 0.25f, 0.25f};
  const Raster r = grid_raster(images, 1, 2, 2, 2, options);
  ASSERT_EQ(r.width, 2 * 2 * 2 + 1);
  ASSERT_EQ(r.height, 4);
  // Left image, enlarged x2 by nearest neighbour.
  EXPECT_EQ(r.at(0, 0), 0);
  EXPECT_EQ(r.at(1, 1), 0);
  EXPECT_EQ(r.at(0, 2), 255);
  EXPECT_EQ(r.at(1, 3), 255);
  EXPECT_EQ(r.at(2, 0), 255);
  EXPECT_EQ(r.at(3, 3), 128);  // 0.5 -> round(127.5)
  // Separator column.
  for (int row = 0; row < 4; ++row) EXPECT_EQ(r.at(row, 4), 128);
  // Right image.
  EXPECT_EQ(r.at(0, 5), 64);  // 0.25 -> round(63.75)
  EXPECT_EQ(r.at(3, 8), 64);
}

TEST(ImageGrid, ValuesAreClampedAndInvertible) {
  GridOptions options;
  options.scale = 1;
  options.separator = 0;
  const std::vector<float> images = {-0.5f, 1.5f, std::nanf(""), 0.0f};
  const Raster r = grid_raster(images, 1, 1, 2, 2, options);
  EXPECT_EQ(r.at(0, 0), 0);
  EXPECT_EQ(r.at(0, 1), 255);
  EXPECT_EQ(r.at(1, 0), 0);  // NaN shows as black
  options.invert = true;
  const Raster inverted = grid_raster(images, 1, 1, 2, 2, options);
  EXPECT_EQ(inverted.at(0, 0), 255);
  EXPECT_EQ(inverted.at(0, 1), 0);
}

TEST(ImageGrid, WrongSizesAreRejected) {
  EXPECT_THROW(grid_raster(std::vector<float>(10), 1, 1, 28, 28), std::invalid_argument);
  EXPECT_THROW(grid_raster(std::vector<float>(784), 0, 1, 28, 28), std::invalid_argument);
  GridOptions bad;
  bad.scale = 0;
  EXPECT_THROW(grid_raster(std::vector<float>(784), 1, 1, 28, 28, bad), std::invalid_argument);
}

// Pixels in rows [top, bottom) and columns [left, right) that differ from `background`.
int count_not(const Raster& r, uint8_t background, int top, int bottom, int left, int right) {
  int n = 0;
  for (int row = top; row < bottom; ++row) {
    for (int col = left; col < right; ++col) n += r.at(row, col) != background;
  }
  return n;
}

// Checks that `labelled` holds `plain` unchanged, shifted right by `left` and down by `top`.
void expect_images_shifted(const Raster& labelled, const Raster& plain, int left, int top) {
  ASSERT_EQ(labelled.width, plain.width + left);
  ASSERT_EQ(labelled.height, plain.height + top);
  int differ = 0;
  for (int row = 0; row < plain.height; ++row) {
    for (int col = 0; col < plain.width; ++col)
      differ += labelled.at(row + top, col + left) != plain.at(row, col);
  }
  EXPECT_EQ(differ, 0) << "labels must not touch the images";
}

// Three rows of two 28 x 28 images at scale 3, as in the report's panels.
constexpr int kRows = 3, kCols = 2, kSide = 28;
const std::vector<std::string> kRowLabels = {"target z", "D(MN)", "D(MT)"};

TEST(ImageGridLabels, RowLabelsWidenTheRasterByTheMargin) {
  const auto images = numbered_images(kRows, kCols, kSide, kSide);
  GridOptions options;  // scale 3, separator 2, label_scale 2
  const Raster plain = grid_raster(images, kRows, kCols, kSide, kSide, options);
  options.row_labels = kRowLabels;
  const GridMargins margins = grid_margins(options);
  EXPECT_EQ(margins.top, 0);
  // "target z" is 8 characters of about 6 font pixels, plus 4 of padding, at label scale 2.
  EXPECT_GT(margins.left, (8 * 5 + 4) * 2 + options.separator);
  EXPECT_LT(margins.left, (8 * 7 + 4) * 2 + options.separator);
  const Raster r = grid_raster(images, kRows, kCols, kSide, kSide, options);
  EXPECT_EQ(r.width, margins.left + kCols * kSide * 3 + (kCols - 1) * 2);  // the documented formula
  EXPECT_EQ(r.height, kRows * kSide * 3 + (kRows - 1) * 2);
  expect_images_shifted(r, plain, margins.left, 0);
  // The margin's separator is grey like the others.
  for (int row = 0; row < r.height; ++row) {
    ASSERT_EQ(r.at(row, margins.left - 1), 153) << row;  // round(0.6 * 255)
    ASSERT_EQ(r.at(row, margins.left - 2), 153) << row;
  }
  // A longer label widens the margin; the images stay as they were.
  options.row_labels[1] = "D(MN gauss_newton)";
  const GridMargins wider = grid_margins(options);
  EXPECT_GT(wider.left, margins.left + 9 * 5 * 2);
  expect_images_shifted(grid_raster(images, kRows, kCols, kSide, kSide, options), plain, wider.left,
                        0);
}

TEST(ImageGridLabels, EachRowLabelIsDrawnInItsRowAndAnEmptyOneDrawsNothing) {
  GridOptions options;
  options.row_labels = {"target z", "", "D(MT)"};
  options.label_width = 120;  // the same margin for every set of labels below
  const Raster r =
      grid_raster(numbered_images(kRows, kCols, kSide, kSide), kRows, kCols, kSide, kSide, options);
  const int area = grid_margins(options).left - options.separator;  // paper with the text
  const int row_height = kSide * 3 + options.separator;
  std::vector<int> ink(kRows);
  for (int row = 0; row < kRows; ++row) {
    const int top = row * row_height, bottom = top + kSide * 3;
    ink[row] = count_not(r, /*paper=*/0, top, bottom, 0, area);
    // White text on black paper, nothing grey in between: crisp at any zoom.
    for (int y = top; y < bottom; ++y) {
      for (int x = 0; x < area; ++x) ASSERT_TRUE(r.at(y, x) == 0 || r.at(y, x) == 255);
    }
  }
  // A label's ink: each of its 5 to 8 characters takes tens of pixels at label scale 2.
  EXPECT_GT(ink[0], 8 * 20);
  EXPECT_EQ(ink[1], 0);
  EXPECT_GT(ink[2], 5 * 20);
  // Text, not a box: different labels draw different pixels.
  options.row_labels = {"D(MB)", "", "D(MT)"};
  const Raster other =
      grid_raster(numbered_images(kRows, kCols, kSide, kSide), kRows, kCols, kSide, kSide, options);
  int differ = 0;
  for (int y = 0; y < kSide * 3; ++y) {
    for (int x = 0; x < area; ++x) differ += other.at(y, x) != r.at(y, x);
  }
  EXPECT_GT(differ, 20);
  // Inverted: dark text on white paper.
  options.invert = true;
  const Raster inverted =
      grid_raster(numbered_images(kRows, kCols, kSide, kSide), kRows, kCols, kSide, kSide, options);
  EXPECT_GT(count_not(inverted, /*paper=*/255, 0, kSide * 3, 0, area), 5 * 20);
  EXPECT_EQ(count_not(inverted, 255, row_height, row_height + kSide * 3, 0, area), 0);
}

TEST(ImageGridLabels, LongLabelsAreCutToAFixedWidth) {
  const auto images = numbered_images(kRows, kCols, kSide, kSide);
  GridOptions options;
  const Raster plain = grid_raster(images, kRows, kCols, kSide, kSide, options);
  options.row_labels = {"a label far too long for sixty pixels", "ok", "D(MT)"};
  options.label_width = 60;
  EXPECT_EQ(grid_margins(options).left, 60 + options.separator);
  const Raster r = grid_raster(images, kRows, kCols, kSide, kSide, options);
  expect_images_shifted(r, plain, 60 + options.separator, 0);
  // The cut label is drawn (its start and ".."), inside the area less its padding of 2 font pixels.
  EXPECT_GT(count_not(r, 0, 0, kSide * 3, 0, 60), 4 * 20);
  EXPECT_EQ(count_not(r, 0, 0, kSide * 3, 60 - 4, 60), 0);
  // Even a margin narrower than its padding is no error: nothing fits, nothing is drawn.
  options.label_width = 3;
  const Raster narrow = grid_raster(images, kRows, kCols, kSide, kSide, options);
  EXPECT_EQ(count_not(narrow, 0, 0, narrow.height, 0, 3), 0);
}

TEST(ImageGridLabels, ColumnLabelsAddABandAboveTheImages) {
  const auto images = numbered_images(kRows, kCols, kSide, kSide);
  GridOptions options;
  const Raster plain = grid_raster(images, kRows, kCols, kSide, kSide, options);
  options.column_labels = {"#12", "#3456789012"};  // the second is wider than its 84 px column
  options.row_labels = kRowLabels;
  const GridMargins margins = grid_margins(options);
  EXPECT_EQ(margins.top, 13 * 2 + options.separator);
  const Raster r = grid_raster(images, kRows, kCols, kSide, kSide, options);
  EXPECT_EQ(r.height, margins.top + kRows * kSide * 3 + (kRows - 1) * 2);
  expect_images_shifted(r, plain, margins.left, margins.top);
  const int band = margins.top - options.separator;
  for (int c = 0; c < kCols; ++c) {
    const int left = margins.left + c * (kSide * 3 + options.separator);
    EXPECT_GT(count_not(r, 0, 0, band, left, left + kSide * 3), 3 * 20) << "column " << c;
  }
  // Nothing above the row labels, nor between the columns.
  EXPECT_EQ(count_not(r, 0, 0, band, 0, margins.left), 0);
  EXPECT_EQ(count_not(r, 0, 0, band, margins.left + kSide * 3,
                      margins.left + kSide * 3 + options.separator),
            0);
}

TEST(ImageGridLabels, BytesTheFontLacksShowAsQuestionMarks) {
  GridOptions options;
  options.row_labels = {"\xc3\xa9t\xc3\xa9\t\x7f"};  // "été", a tab, DEL
  const Raster r = grid_raster(numbered_images(1, 1, kSide, kSide), 1, 1, kSide, kSide, options);
  options.row_labels = {"??t????"};  // é is two bytes
  const Raster expected =
      grid_raster(numbered_images(1, 1, kSide, kSide), 1, 1, kSide, kSide, options);
  ASSERT_EQ(r.width, expected.width);
  EXPECT_EQ(r.pixels, expected.pixels);
}

TEST(ImageGridLabels, WrongLabelCountsAndSettingsAreRejected) {
  const auto images = numbered_images(kRows, kCols, kSide, kSide);
  GridOptions options;
  options.row_labels = {"target", "D(MN)"};
  try {
    grid_raster(images, kRows, kCols, kSide, kSide, options);
    FAIL() << "2 row labels for 3 rows must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 row labels given for 3 rows"), std::string::npos)
        << e.what();
  }
  options.row_labels.clear();
  options.column_labels = {"a", "b", "c"};
  try {
    grid_raster(images, kRows, kCols, kSide, kSide, options);
    FAIL() << "3 column labels for 2 columns must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("3 column labels given for 2 columns"), std::string::npos)
        << e.what();
  }
  options.column_labels.clear();
  options.label_scale = 0;
  EXPECT_THROW(grid_raster(images, kRows, kCols, kSide, kSide, options), std::invalid_argument);
  options.label_scale = 2;
  options.label_width = -1;
  EXPECT_THROW(grid_margins(options), std::invalid_argument);
}

TEST_F(ImageGridTest, LabelledPanelPngHasTheRasterSize) {
  GridOptions options;
  options.row_labels = kRowLabels;
  options.column_labels = {"#1", "#2"};
  const auto images = numbered_images(kRows, kCols, kSide, kSide);
  const fs::path png = dir() / "labelled.png";
  write_image_grid(png, images, kRows, kCols, kSide, kSide, options);
  const Raster r = grid_raster(images, kRows, kCols, kSide, kSide, options);
  const auto header = read_png_header(png);
  ASSERT_TRUE(header.valid);
  EXPECT_EQ(header.width, static_cast<uint32_t>(r.width));
  EXPECT_EQ(header.height, static_cast<uint32_t>(r.height));
}

TEST_F(ImageGridTest, WritesAGreyscalePngOfTheGridSize) {
  // "target | D(MN) | D(MT) | D(MB)" for 5 targets: a bright square that blurs column by column.
  const int rows = 5, cols = 4, h = 28, w = 28;
  std::vector<float> images(static_cast<size_t>(rows) * cols * h * w, 0.0f);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      float* image = images.data() + (static_cast<size_t>(r) * cols + c) * h * w;
      for (int i = 6 + r; i < 22 - r; ++i) {
        for (int j = 8; j < 20; ++j) image[i * w + j] = 1.0f - 0.2f * c;
      }
    }
  }
  const fs::path png = dir() / "panel.png";
  write_image_grid(png, images, rows, cols, h, w);
  const auto header = read_png_header(png);
  ASSERT_TRUE(header.valid);
  EXPECT_EQ(header.width, static_cast<uint32_t>(cols * w * 3 + (cols - 1) * 2));
  EXPECT_EQ(header.height, static_cast<uint32_t>(rows * h * 3 + (rows - 1) * 2));
  EXPECT_EQ(header.colour_type, 0);  // greyscale
  EXPECT_EQ(header.bit_depth, 8);
}

TEST_F(ImageGridTest, ManifoldTilesTouch) {
  const int n = 10, h = 28, w = 28;
  std::vector<float> decoded;
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      for (int i = 0; i < h; ++i) {
        for (int j = 0; j < w; ++j) {
          // A blob whose position follows the grid cell, like a smooth decoder would.
          const float di = i - (4.0f + 2.0f * r), dj = j - (4.0f + 2.0f * c);
          decoded.push_back(std::exp(-(di * di + dj * dj) / 18.0f));
        }
      }
    }
  }
  const fs::path png = dir() / "manifold.png";
  write_manifold(png, decoded, n, n, h, w, /*scale=*/2);
  const auto header = read_png_header(png);
  ASSERT_TRUE(header.valid);
  EXPECT_EQ(header.width, static_cast<uint32_t>(n * w * 2));
  EXPECT_EQ(header.height, static_cast<uint32_t>(n * h * 2));
}

}  // namespace
}  // namespace preimage::report
