// Digit panels: layout arithmetic, pixel values, and the PNG that stb writes.
#include <gtest/gtest.h>

#include <cmath>

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
