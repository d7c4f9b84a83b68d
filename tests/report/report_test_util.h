#pragma once
// Shared by the report tests: a scratch folder per test and a PNG header reader.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "report/subprocess.h"

namespace preimage::report::testing {

namespace fs = std::filesystem;

// A fresh folder for one test's outputs, removed afterwards unless PREIMAGE_KEEP_TEST_OUTPUT is
// set (then its path is printed, to look at the figures).
class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::make_unique<TempDir>(std::string("preimage-report-test-") + info->name());
  }
  void TearDown() override {
    if (std::getenv("PREIMAGE_KEEP_TEST_OUTPUT") != nullptr) {
      const fs::path kept = fs::path(dir_->path().string() + "-kept");
      fs::remove_all(kept);
      fs::rename(dir_->path(), kept);
      fs::create_directories(dir_->path());
      std::printf("test output kept in %s\n", kept.c_str());
    }
    dir_.reset();
  }
  const fs::path& dir() const { return dir_->path(); }

 private:
  std::unique_ptr<TempDir> dir_;
};

struct PngHeader {
  bool valid = false;  // signature and IHDR chunk found
  uint32_t width = 0, height = 0;
  int bit_depth = 0, colour_type = 0;  // colour type 0: greyscale, 2: RGB, 6: RGBA
};

// Reads the PNG signature and the IHDR chunk that must follow it.
inline PngHeader read_png_header(const fs::path& path) {
  PngHeader header;
  std::ifstream in(path, std::ios::binary);
  unsigned char b[26] = {};
  if (!in.read(reinterpret_cast<char*>(b), sizeof b)) return header;
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (!std::equal(b, b + 8, kSignature) || std::string(b + 12, b + 16) != "IHDR") return header;
  auto be32 = [&](int at) {
    return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) |
           b[at + 3];
  };
  header.valid = true;
  header.width = be32(16);
  header.height = be32(20);
  header.bit_depth = b[24];
  header.colour_type = b[25];
  return header;
}

// Files in `dir` whose name contains ".tmp": what an interrupted atomic write would leave.
inline int count_temp_files(const fs::path& dir) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    n += entry.path().filename().string().find(".tmp") != std::string::npos;
  }
  return n;
}

}  // namespace preimage::report::testing
