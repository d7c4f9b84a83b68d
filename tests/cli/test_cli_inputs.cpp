// Hostile input files and numbers given to `preimage`: each a clear error naming the file and
// what was expected (exit 1, no raw library message), before any work starts.
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include "test_helpers.h"
#include "cli_runner.h"
#include "data/idx.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {
// Exit 1 (a UserError) with `must_contain` in the message, before any training.
void expect_user_error(const test_support::CliResult& r, const std::string& must_contain) {
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "error: ")) << r.output;
  EXPECT_TRUE(contains(r.output, must_contain)) << "expected '" << must_contain << "' in:\n" << r.output;
  EXPECT_FALSE(contains(r.output, "epoch:")) << "it started training:\n" << r.output;
}

std::string run_flags(const fs::path& out) {
  return "run --out " + out.string() + " --train-images 100 --eval-images none --epochs 1" +
         " --hidden-width 16 --batch-size 64 --quiet --no-analyze --no-report";
}
}  // namespace

TEST(CliInputs, EndlessDevicesPipesAndFoldersAsData) {
  const auto dir = test_support::fresh_dir("cli_inputs_special");
  expect_user_error(run_cli(run_flags(dir / "r1") + " --data /dev/zero --images 10"),
                    "'/dev/zero' is not a regular file");
  auto r = run_cli(run_flags(dir / "r2") + " --data " + dir.string() + " --images 10");
  expect_user_error(r, "is a folder, not a file");
  EXPECT_FALSE(contains(r.output, "basic_filebuf")) << r.output;
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  expect_user_error(run_cli(run_flags(dir / "r3") + " --data " + (dir / "pipe").string()),
                    "not a regular file");
}

TEST(CliInputs, HugeNumbersAndEmptyDataSets) {
  const auto dir = test_support::fresh_dir("cli_inputs_numbers");
  auto r = run_cli(run_flags(dir / "r1") + " --images 99999999999999999999 --data-dir " +
                   PREIMAGE_DATA_DIR);
  expect_user_error(r, "more than any data set holds");
  EXPECT_FALSE(contains(r.output, "stoll")) << r.output;
  data::write_npy_tensor(dir / "empty.npy", torch::zeros({0, 28, 28}));
  r = run_cli(run_flags(dir / "r2") + " --images all --data " + (dir / "empty.npy").string());
  expect_user_error(r, "empty.npy' holds no images");
  EXPECT_FALSE(contains(r.output, "reaches past")) << r.output;
  // An IDX header promising 10^9 images in a small file: named, nothing allocated.
  std::string header{'\0', '\0', '\x08', '\x03', '\x3b', '\x9a', '\xca', '\x00'};
  header += std::string("\0\0\0\x1c\0\0\0\x1c", 8) + std::string(84, '\0');
  util::write_file_atomic(dir / "bomb.idx", header);
  expect_user_error(run_cli(run_flags(dir / "r3") + " --data " + (dir / "bomb.idx").string()),
                    "promises 784000000000");
}

TEST(CliInputs, BadLabelsFiles) {
  const auto dir = test_support::fresh_dir("cli_inputs_labels");
  data::write_idx(dir / "img.idx", torch::zeros({50, 28, 28}, torch::kUInt8));
  auto labels = [&](const std::string& file) {
    return run_cli(run_flags(dir / "r") + " --images 10 --data " + (dir / "img.idx").string() +
                   " --labels " + (dir / file).string());
  };
  data::write_npy_tensor(dir / "short.npy", torch::zeros({7}, torch::kInt64));
  auto r = labels("short.npy");
  expect_user_error(r, "short.npy' holds 7 labels, but");
  EXPECT_FALSE(contains(r.output, "select()")) << r.output;
  data::write_npy_tensor(dir / "column.npy", torch::zeros({50, 1}, torch::kInt64));
  expect_user_error(labels("column.npy"), "holds labels of shape (50, 1), expected a 1-D array");
  auto eleven = torch::zeros({50}, torch::kUInt8);
  eleven[4] = 11;
  data::write_idx(dir / "eleven.idx", eleven);
  expect_user_error(labels("eleven.idx"), "holds label 11 at position 4, expected a class 0..9");
}

// preimage complete --mask FILE.png: a valid PNG works ("string pointer is null" before); bad
// ones are named.
TEST(CliInputs, PngMasks) {
  const auto dir = test_support::fresh_dir("cli_inputs_mask");
  auto t = run_cli("train --out " + (dir / "m").string() + " --data-dir " + PREIMAGE_DATA_DIR +
                   " --train-images 128 --eval-images none --epochs 1 --hidden-width 16"
                   " --batch-size 64 --quiet");
  ASSERT_EQ(t.status, 0) << t.output;
  std::vector<unsigned char> pixels(28 * 28, 0);
  std::fill(pixels.begin(), pixels.begin() + 14 * 28, 255);  // the top half known
  ASSERT_NE(stbi_write_png((dir / "top.png").c_str(), 28, 28, 1, pixels.data(), 28), 0);
  const std::string complete = "complete " + (dir / "m").string() + " --data-dir " +
                               PREIMAGE_DATA_DIR + " --images 2 --quiet --mask ";
  auto r = run_cli(complete + (dir / "top.png").string() + " --out " + (dir / "c").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(data::read_npy_tensor(dir / "c" / "mask.npy").sum().item<float>(), 14 * 28);

  const std::string good = util::read_file(dir / "top.png");
  util::write_file_atomic(dir / "cut.png", good.substr(0, good.size() / 2));
  expect_user_error(run_cli(complete + (dir / "cut.png").string()), "cut.png");
  ASSERT_NE(stbi_write_png((dir / "small.png").c_str(), 8, 8, 1, pixels.data(), 8), 0);
  expect_user_error(run_cli(complete + (dir / "small.png").string()),
                    "is 8x8 pixels, the images are 28x28");
  expect_user_error(run_cli(complete + "/dev/zero"), "not a regular file");
}
