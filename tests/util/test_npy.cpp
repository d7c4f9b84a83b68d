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
           {"(1000000, 1000000)", "payload"},
           // No elements, but no tensor's strides could span it (a fuzz finding).
           {"(0, 4294967296, 4294967296, 4294967296)", "overflows"}}) {
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

namespace {
// A version-1 .npy whose header is `dict` (padded as NumPy pads it) followed by `payload`.
std::string npy_with_header(const std::string& dict, const std::string& payload) {
  std::string h = dict;
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h.push_back('\n');
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size() & 0xff) +
         static_cast<char>(h.size() >> 8) + h + payload;
}

std::string parse_error(const std::string& bytes) {
  try {
    util::parse_npy(bytes, "x.npy");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Npy, HeadersThatAreNotNumpysDictAreRefused) {
  const std::string four(4, '\0');
  for (const auto& [dict, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }", "tuple of whole numbers"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "closing its dictionary"},
           {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "neither True nor False"},
           {"{'descr': '<f4', 'fortran_order': False, }", "no 'shape'"},
           {"{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", "repeated key 'descr'"},
           {"{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '>f4'"},
           {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", "text after the dictionary"},
       }) {
    const auto err = parse_error(npy_with_header(dict, four));
    EXPECT_NE(err.find(expected), std::string::npos) << dict << ": " << err;
    EXPECT_NE(err.find("x.npy"), std::string::npos) << err;
  }
  // What NumPy writes still reads, also with double quotes and Python 2's long integers.
  EXPECT_EQ(util::parse_npy(npy_with_header("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L,)}", four), "x.npy")
                .shape,
            (std::vector<int64_t>{1}));
  EXPECT_EQ(util::parse_npy(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", four), "x.npy")
                .numel(),
            1);
}

TEST(Npy, LongHeadersAreReadWithoutRecursion) {
  // A version-2 header of a million characters: std::regex recursed once per character here.
  std::string dict = "{'descr': '" + std::string(1000000, 'f') + "', 'fortran_order': False, 'shape': (1,), }\n";
  const uint32_t n = static_cast<uint32_t>(dict.size());
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  const auto err = parse_error(bytes + dict + std::string(4, '\0'));
  EXPECT_NE(err.find("unsupported dtype"), std::string::npos) << err.substr(0, 200);
}

TEST(Npy, HeaderLengthBeyondTheFileIsTruncation) {
  std::string bytes = std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{";
  EXPECT_NE(parse_error(bytes).find("truncated header"), std::string::npos) << parse_error(bytes);
}

TEST(Npy, FoldersAndDevicesAreRefusedNotRead) {
  const auto dir = temp_dir();
  auto error_of = [](const fs::path& p) {
    try {
      util::read_npy(p);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(dir).find("is a folder, not a file"), std::string::npos) << error_of(dir);
  EXPECT_NE(error_of("/dev/zero").find("'/dev/zero' is not a regular file"), std::string::npos)
      << error_of("/dev/zero");
  EXPECT_NE(error_of(dir / "absent.npy").find("does not exist"), std::string::npos);
}
