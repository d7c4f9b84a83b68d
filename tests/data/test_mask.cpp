// Completion masks from files (preimage complete --mask): PNG and .npy, and each way one can be
// wrong, named before any pixel is decoded.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include "test_helpers.h"
#include "data/mask.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace preimage;
using test_support::contains;
using test_support::user_error_of;

namespace {
// A PNG of `channels` channels whose pixels are 255 in the top half, 0 below.
std::string png(int width, int height, int channels) {
  std::vector<unsigned char> pixels(static_cast<size_t>(width * height * channels), 0);
  for (int r = 0; r < height / 2; ++r)
    for (int i = 0; i < width * channels; ++i) pixels[static_cast<size_t>(r * width * channels + i)] = 255;
  std::string bytes;
  stbi_write_png_to_func(
      [](void* out, void* data, int size) { static_cast<std::string*>(out)->append(static_cast<char*>(data), size); },
      &bytes, width, height, channels, pixels.data(), width * channels);
  return bytes;
}
}  // namespace

TEST(Mask, GreyAndColourPngsRead) {
  const auto dir = test_support::fresh_dir("mask_png");
  for (int channels : {1, 3, 4}) {
    util::write_file_atomic(dir / "m.png", png(28, 28, channels));
    const auto mask = data::read_mask(dir / "m.png", 28, 28);
    ASSERT_EQ(mask.numel(), 784) << channels;
    EXPECT_EQ(mask.sum().item<int64_t>(), 392) << channels;
    EXPECT_EQ(mask[0].item<float>(), 1.0f);
    EXPECT_EQ(mask[783].item<float>(), 0.0f);
  }
}

TEST(Mask, NpyMasksRead) {
  const auto dir = test_support::fresh_dir("mask_npy");
  auto m = torch::zeros({28, 28});
  m.slice(0, 0, 14).fill_(3);
  data::write_npy_tensor(dir / "m.npy", m);
  EXPECT_EQ(data::read_mask(dir / "m.npy", 28, 28).sum().item<int64_t>(), 392);
  data::write_npy_tensor(dir / "small.npy", torch::ones({4, 4}));
  const auto err = user_error_of([&] { data::read_mask(dir / "small.npy", 28, 28); });
  EXPECT_TRUE(contains(err, "small.npy' has shape (4, 4), 16 values; the images have 28x28")) << err;
}

TEST(Mask, WrongSizeIsNamedBeforeDecoding) {
  const auto dir = test_support::fresh_dir("mask_size");
  util::write_file_atomic(dir / "small.png", png(4, 5, 1));
  const auto err = user_error_of([&] { data::read_mask(dir / "small.png", 28, 28); });
  EXPECT_TRUE(contains(err, "mask '" + (dir / "small.png").string() + "' is 5x4 pixels, the images are 28x28")) << err;
}

TEST(Mask, CorruptAndTruncatedPngsAreNamed) {
  const auto dir = test_support::fresh_dir("mask_corrupt");
  const std::string good = png(28, 28, 1);
  util::write_file_atomic(dir / "cut.png", good.substr(0, good.size() / 2));
  auto err = user_error_of([&] { data::read_mask(dir / "cut.png", 28, 28); });
  EXPECT_TRUE(contains(err, "cut.png")) << err;
  EXPECT_TRUE(contains(err, "corrupt or truncated")) << err;
  util::write_file_atomic(dir / "header.png", good.substr(0, 12));
  err = user_error_of([&] { data::read_mask(dir / "header.png", 28, 28); });
  EXPECT_TRUE(contains(err, "cannot read mask image '" + (dir / "header.png").string())) << err;
  std::string flipped = good;
  for (size_t i = 41; i < flipped.size() - 12; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  util::write_file_atomic(dir / "flipped.png", flipped);
  err = user_error_of([&] { data::read_mask(dir / "flipped.png", 28, 28); });
  EXPECT_TRUE(contains(err, "flipped.png")) << err;
  EXPECT_FALSE(contains(err, "string pointer is null")) << err;
}

// Found by fuzz_mask: an IDAT chunk claiming ~2 GB in a small file made stb allocate that much
// before looking for the bytes. Every chunk must lie inside the file, checked before stb runs.
TEST(Mask, ChunkClaimingMoreThanTheFileIsRefusedBeforeDecoding) {
  const auto dir = test_support::fresh_dir("mask_chunk");
  const std::string good = png(28, 28, 1);
  std::string bomb = good.substr(0, 33);  // signature and IHDR
  bomb += std::string("\x84\x00\x00\xff", 4) + "IDAT" + std::string(40, '\xff');
  util::write_file_atomic(dir / "bomb.png", bomb);
  const auto err = user_error_of([&] { data::read_mask(dir / "bomb.png", 28, 28); });
  EXPECT_TRUE(contains(err, "bomb.png")) << err;
  EXPECT_TRUE(contains(err, "claims 2214592767 bytes")) << err;
}

TEST(Mask, NotAPngFolderOrMissingFileAreNamed) {
  const auto dir = test_support::fresh_dir("mask_other");
  util::write_file_atomic(dir / "m.jpg", "\xff\xd8\xff\xe0 not really a JPEG");
  auto err = user_error_of([&] { data::read_mask(dir / "m.jpg", 28, 28); });
  EXPECT_TRUE(contains(err, "m.jpg' is not a PNG file")) << err;
  err = user_error_of([&] { data::read_mask(dir, 28, 28); });
  EXPECT_TRUE(contains(err, "is a folder, not a file")) << err;
  err = user_error_of([&] { data::read_mask(dir / "absent.png", 28, 28); });
  EXPECT_TRUE(contains(err, "mask file '" + (dir / "absent.png").string() + "' does not exist")) << err;
}
