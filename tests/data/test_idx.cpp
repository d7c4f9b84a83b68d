// The IDX reader: good files, and each way a file can be corrupt.
#include <sys/stat.h>
#include <zlib.h>

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

// ---- hostile files: sizes checked against the file before anything is allocated ----

namespace {
std::string idx_header(const std::vector<uint32_t>& dims) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((d >> shift) & 0xff));
  return out;
}

std::string gzip(const std::string& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, bytes.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
}  // namespace

TEST(Idx, HeaderPromisingMoreThanTheFileHoldsIsRefusedBeforeAllocating) {
  const auto dir = test_support::fresh_dir("idx_bomb");
  // 10^9 images of 28 x 28 in a 100-byte file: an error naming it, not a 784 GB allocation.
  util::write_file_atomic(dir / "bomb", idx_header({1000000000, 28, 28}) + std::string(84, '\0'));
  const auto err = error_of(dir / "bomb", 3);
  EXPECT_TRUE(contains(err, "bomb")) << err;
  EXPECT_TRUE(contains(err, "1000000000 x 28 x 28")) << err;
  EXPECT_TRUE(contains(err, "promises 784000000000")) << err;
}

TEST(Idx, DimensionsWhoseProductOverflowsAreNamed) {
  const auto dir = test_support::fresh_dir("idx_overflow");
  // 2^32-1 cubed wraps a 64-bit size; LibTorch would say "Storage size calculation overflowed".
  util::write_file_atomic(dir / "wrap", idx_header({0xffffffffu, 0xffffffffu, 0xffffffffu}));
  const auto err = error_of(dir / "wrap", 3);
  EXPECT_TRUE(contains(err, "wrap")) << err;
  EXPECT_TRUE(contains(err, "overflows")) << err;
}

TEST(Idx, FoldersDevicesAndPipesAreRefusedNotRead) {
  const auto dir = test_support::fresh_dir("idx_special");
  auto err = error_of(dir, 3);
  EXPECT_TRUE(contains(err, "is a folder, not a file")) << err;
  EXPECT_FALSE(contains(err, "basic_filebuf")) << err;
  // Endless: read until memory ran out before.
  err = error_of("/dev/zero", 3);
  EXPECT_TRUE(contains(err, "'/dev/zero' is not a regular file")) << err;
  // A pipe without a writer: refused at once, not waited on.
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  err = error_of(dir / "pipe", 3);
  EXPECT_TRUE(contains(err, "not a regular file")) << err;
}

TEST(Idx, GzippedFilesReadAsTheirContents) {
  const auto dir = test_support::fresh_dir("idx_gz");
  auto images = torch::arange(0, 5 * 3 * 4, torch::kUInt8).view({5, 3, 4});
  data::write_idx(dir / "img", images);
  util::write_file_atomic(dir / "img.gz", gzip(util::read_file(dir / "img")));
  EXPECT_TRUE(data::read_idx(dir / "img.gz", 3).equal(images));

  const std::string gz = util::read_file(dir / "img.gz");
  util::write_file_atomic(dir / "cut.gz", gz.substr(0, gz.size() - 30));
  EXPECT_TRUE(contains(error_of(dir / "cut.gz", 3), "cut.gz")) << error_of(dir / "cut.gz", 3);
  std::string corrupt = gz;
  for (size_t i = 12; i < corrupt.size() - 8; ++i) corrupt[i] = static_cast<char>(0xff);
  util::write_file_atomic(dir / "corrupt.gz", corrupt);
  const auto err = error_of(dir / "corrupt.gz", 3);
  EXPECT_TRUE(contains(err, "corrupt.gz")) << err;
  EXPECT_TRUE(contains(err, "gzip") || contains(err, "truncated")) << err;
}

TEST(Idx, GzippedHeaderPromisingMoreThanDeflateCanHoldIsRefused) {
  const auto dir = test_support::fresh_dir("idx_gz_bomb");
  util::write_file_atomic(dir / "bomb.gz", gzip(idx_header({1000000000, 28, 28}) + std::string(100, '\0')));
  const auto err = error_of(dir / "bomb.gz", 3);
  EXPECT_TRUE(contains(err, "bomb.gz")) << err;
  EXPECT_TRUE(contains(err, "cannot hold")) << err;
}

// Debian's dataset-fashion-mnist ships gzipped IDX: read directly, they equal the unpacked files.
TEST(Idx, FashionMnistGzFromDebianEqualsTheUnpackedFile) {
  const std::filesystem::path gz = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  const std::filesystem::path plain =
      std::filesystem::path(PREIMAGE_DATA_DIR) / "fashion-mnist" / "t10k-labels-idx1-ubyte";
  if (!std::filesystem::exists(gz) || !std::filesystem::exists(plain))
    GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup.sh installs it)";
  auto labels = data::read_idx(gz, 1);
  EXPECT_EQ(labels.size(0), 10000);
  EXPECT_TRUE(labels.equal(data::read_idx(plain, 1)));
}

// Found by fuzz_npy: an empty array gave memcpy a null pointer (undefined behaviour, caught by the
// sanitizer job); it reads as an empty tensor of its shape, in either order.
TEST(TensorIo, EmptyArraysReadInBothOrders) {
  for (const char* order : {"False", "True"}) {
    std::string h = std::string("{'descr': '<i8', 'fortran_order': ") + order + ", 'shape': (0, 3), }";
    h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
    h.push_back('\n');
    const std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size()) + '\0' + h;
    const auto t = data::tensor_of(util::parse_npy(bytes, "empty.npy"));
    EXPECT_EQ(t.sizes(), (std::vector<int64_t>{0, 3})) << order;
  }
}
