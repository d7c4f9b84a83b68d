// The IDX reader: good files, and each way a file can be corrupt.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "data/idx.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace preimage;
using test_support::contains;

namespace {
std::string error_of(const std::filesystem::path& p, int ndim) {
  try {
    data::read_idx(p, ndim);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Idx, RoundTrip) {
  const auto dir = test_support::fresh_dir("idx");
  auto images = torch::arange(0, 2 * 3 * 4, torch::kUInt8).view({2, 3, 4});
  data::write_idx(dir / "img", images);
  auto back = data::read_idx(dir / "img", 3);
  EXPECT_EQ(back.sizes(), images.sizes());
  EXPECT_TRUE(back.equal(images));
  auto labels = torch::tensor({3, 1, 4}, torch::kUInt8);
  data::write_idx(dir / "lab", labels);
  EXPECT_TRUE(data::read_idx(dir / "lab", 1).equal(labels));
}

TEST(Idx, HeaderIsBigEndian) {
  const auto dir = test_support::fresh_dir("idx_be");
  data::write_idx(dir / "img", torch::zeros({300, 28, 28}, torch::kUInt8));
  const std::string bytes = util::read_file(dir / "img");
  EXPECT_EQ(std::string(bytes.data(), 4), std::string("\0\0\x08\x03", 4));
  EXPECT_EQ(static_cast<unsigned char>(bytes[6]), 300 >> 8);
  EXPECT_EQ(static_cast<unsigned char>(bytes[7]), 300 & 0xff);
}

TEST(Idx, WrongMagicNamesFileAndExpectation) {
  const auto dir = test_support::fresh_dir("idx_magic");
  util::write_file_atomic(dir / "bad", std::string("\x12\x34\x08\x03", 4) + std::string(12, '\0'));
  const auto err = error_of(dir / "bad", 3);
  EXPECT_TRUE(contains(err, "bad")) << err;
  EXPECT_TRUE(contains(err, "expected 00 00 08 03")) << err;
}

TEST(Idx, TruncatedPayload) {
  const auto dir = test_support::fresh_dir("idx_trunc");
  data::write_idx(dir / "img", torch::zeros({10, 28, 28}, torch::kUInt8));
  std::string bytes = util::read_file(dir / "img");
  bytes.resize(bytes.size() - 100);
  util::write_file_atomic(dir / "img", bytes);
  const auto err = error_of(dir / "img", 3);
  EXPECT_TRUE(contains(err, "10 x 28 x 28")) << err;
  EXPECT_TRUE(contains(err, "promises 7840")) << err;
}

TEST(Idx, TruncatedHeaderAndEmptyFile) {
  const auto dir = test_support::fresh_dir("idx_head");
  util::write_file_atomic(dir / "short", std::string("\0\0\x08\x03\0\0", 6));
  EXPECT_TRUE(contains(error_of(dir / "short", 3), "header")) << error_of(dir / "short", 3);
  util::write_file_atomic(dir / "empty", "");
  EXPECT_TRUE(contains(error_of(dir / "empty", 3), "too short"));
}

TEST(Idx, WrongDimensionCount) {
  const auto dir = test_support::fresh_dir("idx_dims");
  data::write_idx(dir / "labels", torch::zeros({5}, torch::kUInt8));
  const auto err = error_of(dir / "labels", 3);
  EXPECT_TRUE(contains(err, "1 dimensions, expected 3")) << err;
}

TEST(Idx, MissingFile) {
  const auto err = error_of("/nonexistent/train-images-idx3-ubyte", 3);
  EXPECT_TRUE(contains(err, "does not exist")) << err;
}

// NumPy saves a transposed view in Fortran order: it reads back as the same array.
TEST(TensorIo, FortranOrderedArraysReadAsTheirValues) {
  const auto dir = test_support::fresh_dir("fortran");
  // (2, 3) with values 0..5 in C order, stored in Fortran order: column by column.
  const float column_major[6] = {0, 3, 1, 4, 2, 5};
  std::string h = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h.push_back('\n');
  const std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size()) +
                            '\0' + h + std::string(reinterpret_cast<const char*>(column_major), 24);
  util::write_file_atomic(dir / "f.npy", bytes);
  auto t = data::read_npy_tensor(dir / "f.npy");
  EXPECT_TRUE(torch::equal(t, torch::arange(6, torch::kFloat32).view({2, 3}))) << t;
}
