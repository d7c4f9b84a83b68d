// The .npy writer and reader: the format numpy.load expects, and clear errors on bad files.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/npy.h"

namespace fs = std::filesystem;
using namespace preimage;

namespace {
fs::path temp_dir() {
  auto d = fs::temp_directory_path() / ("npy_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(Npy, HeaderIsWhatNumpyWrites) {
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const std::string bytes = util::npy_encode(util::NpyType::kFloat32, {2, 3}, data);
  ASSERT_EQ(bytes.substr(0, 6), std::string("\x93NUMPY", 6));
  EXPECT_EQ(bytes[6], 1);  // version 1.0
  const size_t header_len = static_cast<unsigned char>(bytes[8]) |
                            (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u) << "the payload starts 64-byte aligned";
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + header_len + sizeof(data));
}

TEST(Npy, OneDimensionalShapeHasTrailingComma) {
  const int64_t data[3] = {7, 8, 9};
  const std::string bytes = util::npy_encode(util::NpyType::kInt64, {3}, data);
  EXPECT_NE(bytes.find("'shape': (3,)"), std::string::npos);
}

TEST(Npy, RoundTrip) {
  const auto path = temp_dir() / "a.npy";
  const double data[4] = {1.5, -2.25, 1e-300, 3};
  util::write_npy(path, util::NpyType::kFloat64, {2, 2}, data);
  const auto back = util::read_npy(path);
  EXPECT_EQ(back.type, util::NpyType::kFloat64);
  ASSERT_EQ(back.shape, (std::vector<int64_t>{2, 2}));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back.data<double>()[i], data[i]);
}

TEST(Npy, TruncatedFileNamesTheFile) {
  const auto path = temp_dir() / "truncated.npy";
  const float data[8] = {};
  std::string bytes = util::npy_encode(util::NpyType::kFloat32, {8}, data);
  bytes.resize(bytes.size() - 5);
  util::write_file_atomic(path, bytes);
  try {
    util::read_npy(path);
    FAIL() << "a truncated file was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.npy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("payload"), std::string::npos) << e.what();
  }
}

TEST(Npy, BadMagicAndDtypeAreErrors) {
  const auto path = temp_dir() / "bad.npy";
  util::write_file_atomic(path, "not a numpy file at all");
  EXPECT_THROW(util::read_npy(path), UserError);
  const std::string complex_header =
      std::string("\x93NUMPY\x01\x00", 8) + std::string("\x36\x00", 2) +
      "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }" + "\n";
  util::write_file_atomic(path, complex_header);
  EXPECT_THROW(util::read_npy(path), UserError);
}

TEST(Npy, ShapesThatCannotBeAreRefusedBeforeAllocating) {
  const auto path = temp_dir() / "shape.npy";
  auto header = [](const std::string& shape) {
    std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
    h.push_back('\n');
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size() & 0xff) +
           static_cast<char>(h.size() >> 8) + h;
  };
  for (const auto& [shape, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"(-5, 2)", "negative dimension"},
           {"(4294967296, 4294967296, 4294967296)", "overflows"},
           {"(123456789012345678901,)", "too large"},
           {"(1000000, 1000000)", "payload"}}) {
    util::write_file_atomic(path, header(shape) + std::string(16, '\0'));
    try {
      util::read_npy(path);
      FAIL() << shape << " was accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << shape << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("shape.npy"), std::string::npos) << e.what();
    }
  }
}
