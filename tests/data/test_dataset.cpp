// Data sets: ranges, shards, binarization, custom files, bad input, and the real MNIST files.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/tensor_io.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace preimage;
using test_support::contains;

TEST(Range, Parse) {
  EXPECT_EQ(data::parse_range("5000").begin, 0);
  EXPECT_EQ(data::parse_range("5000").end, 5000);
  EXPECT_EQ(data::parse_range("10:20").begin, 10);
  EXPECT_EQ(data::parse_range("all").end, -1);
  EXPECT_THROW(data::parse_range("0"), UserError);
  EXPECT_THROW(data::parse_range("20:10"), UserError);
  EXPECT_THROW(data::parse_range("5:5"), UserError);
  EXPECT_THROW(data::parse_range("abc"), UserError);
  EXPECT_THROW(data::resolve_range({0, 100}, 50, "x"), UserError);
  EXPECT_EQ(data::resolve_range({10, -1}, 50, "x").end, 50);
}

TEST(Range, ShardsCoverTheRangeOnce) {
  const data::ImageRange r{3, 103};
  int64_t next = 3;
  for (int64_t k = 0; k < 7; ++k) {
    auto s = data::shard_range(r, {k, 7});
    EXPECT_EQ(s.begin, next);
    EXPECT_GE(s.size(), 14);
    EXPECT_LE(s.size(), 15);
    next = s.end;
  }
  EXPECT_EQ(next, 103);
  EXPECT_THROW(data::parse_shard("4/4"), UserError);
  EXPECT_THROW(data::parse_shard("1-4"), UserError);
  EXPECT_EQ(data::parse_shard("3/4").index, 3);
}

TEST(Dataset, BinarizeAsTheThesis) {
  auto x = torch::tensor({0, 127, 128, 255}, torch::kUInt8);
  auto b = data::binarize(x);
  EXPECT_TRUE(b.equal(torch::tensor({0.f, 0.f, 1.f, 1.f})));  // 127/255 < 0.5 < 128/255
}

TEST(Dataset, CustomIdxWithLabels) {
  const auto dir = test_support::fresh_dir("ds_custom");
  data::write_idx(dir / "img", torch::randint(0, 256, {20, 4, 4}).to(torch::kUInt8));
  data::write_idx(dir / "lab", torch::arange(20).remainder(10).to(torch::kUInt8));
  data::DataSpec spec;
  spec.source = (dir / "img").string();
  spec.labels_path = (dir / "lab").string();
  auto ds = data::load_dataset(spec, {5, 15});
  EXPECT_EQ(ds.size(), 10);
  EXPECT_EQ(ds.pixels(), 16);
  EXPECT_EQ(ds.labels[0].item<int64_t>(), 5);
  EXPECT_EQ(ds.indices[0].item<int64_t>(), 5);
  EXPECT_EQ(data::dataset_size(spec), 20);
}

// A data set without labels stays allowed: every label is -1 (unknown), and the commands skip
// their per-digit parts.
TEST(Dataset, ImagesWithoutLabelsLoadWithUnknownLabels) {
  const auto dir = test_support::fresh_dir("ds_unlabelled");
  data::write_idx(dir / "img", torch::randint(0, 256, {12, 4, 4}).to(torch::kUInt8));
  data::DataSpec spec;
  spec.source = (dir / "img").string();
  const auto ds = data::load_dataset(spec, {0, 12});
  EXPECT_EQ(ds.size(), 12);
  EXPECT_TRUE(ds.labels.eq(-1).all().item<bool>());
}

TEST(Dataset, LabelCountMismatchIsAnError) {
  const auto dir = test_support::fresh_dir("ds_mismatch");
  data::write_idx(dir / "img", torch::zeros({20, 4, 4}, torch::kUInt8));
  data::write_idx(dir / "lab", torch::zeros({19}, torch::kUInt8));
  data::DataSpec spec;
  spec.source = (dir / "img").string();
  spec.labels_path = (dir / "lab").string();
  try {
    data::load_dataset(spec);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "19 labels")) << e.what();
  }
}

TEST(Dataset, NanInNpyImagesIsAnError) {
  const auto dir = test_support::fresh_dir("ds_nan");
  auto x = torch::rand({5, 16});
  x[2][3] = std::nanf("");
  data::write_npy_tensor(dir / "x.npy", x);
  data::DataSpec spec;
  spec.source = (dir / "x.npy").string();
  try {
    data::load_dataset(spec);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "NaN")) << e.what();
    EXPECT_TRUE(contains(e.what(), "x.npy")) << e.what();
  }
}

TEST(Dataset, OutOfRangePixelsAreAnError) {
  const auto dir = test_support::fresh_dir("ds_range");
  data::write_npy_tensor(dir / "x.npy", torch::full({3, 2, 2}, 255.0f));
  data::DataSpec spec;
  spec.source = (dir / "x.npy").string();
  EXPECT_THROW(data::load_dataset(spec), UserError);
}

TEST(Dataset, MissingDataFolderSaysHowToFetch) {
  data::DataSpec spec;
  spec.data_dir = "/nonexistent/data";
  try {
    data::load_dataset(spec);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent/data/mnist")) << e.what();
    EXPECT_TRUE(contains(e.hint(), "scripts/setup.sh")) << e.hint();
  }
}

TEST(Dataset, UnknownSourceListsTheKnownOnes) {
  data::DataSpec spec;
  spec.source = "cifar";
  try {
    data::load_dataset(spec);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.hint(), "mnist, fashion-mnist")) << e.hint();
  }
}

// The real files fetched by scripts/setup.sh (checked by MD5 there).
TEST(Mnist, TrainAndTestSplits) {
  data::DataSpec spec;
  spec.data_dir = PREIMAGE_DATA_DIR;
  ASSERT_EQ(data::dataset_size(spec), 60000) << "run scripts/setup.sh first";
  auto ds = data::load_dataset(spec, {0, 300});
  EXPECT_EQ(ds.size(), 300);
  EXPECT_EQ(ds.height, 28);
  EXPECT_EQ(ds.labels[0].item<int64_t>(), 5);  // MNIST's first training digit is a 5
  EXPECT_EQ(ds.labels[1].item<int64_t>(), 0);
  auto values = std::get<0>(torch::_unique(ds.images));
  EXPECT_TRUE(values.equal(torch::tensor({0.f, 1.f}))) << "images are binarized";
  const double ink = ds.images.mean().item<double>();
  EXPECT_GT(ink, 0.08);
  EXPECT_LT(ink, 0.20);
  spec.split = "test";
  EXPECT_EQ(data::dataset_size(spec), 10000);
  EXPECT_EQ(data::load_dataset(spec, {0, 1}).labels[0].item<int64_t>(), 7);
}

TEST(FashionMnist, Loads) {
  data::DataSpec spec;
  spec.data_dir = PREIMAGE_DATA_DIR;
  spec.source = "fashion-mnist";
  ASSERT_EQ(data::dataset_size(spec), 60000) << "run scripts/setup.sh first";
  EXPECT_EQ(data::load_dataset(spec, {0, 10}).pixels(), 784);
}

// ---- hostile input: each a clear error naming the file or the flag ----

TEST(Range, NumbersBeyondAnyDataSetAreNamedNotStoll) {
  const auto err = test_support::user_error_of([] { data::parse_range("99999999999999999999"); });
  EXPECT_TRUE(contains(err, "'99999999999999999999'")) << err;
  EXPECT_TRUE(contains(err, "more than any data set holds")) << err;
  EXPECT_FALSE(contains(err, "stoll")) << err;
  EXPECT_TRUE(contains(test_support::user_error_of([] { data::parse_range("0:99999999999999999999"); }),
                       "more than any data set"));
  EXPECT_TRUE(contains(test_support::user_error_of([] { data::parse_shard("1/99999999999999999999"); }),
                       "more than any data set"));
  // 18 digits still parse (and then reach past the data set).
  EXPECT_EQ(data::parse_range("999999999999999999").end, 999999999999999999);
}

TEST(Dataset, ImageShapeOfTwentyDigitsIsNamedNotStoll) {
  const auto err =
      test_support::user_error_of([] { data::parse_image_shape("99999999999999999999,28"); });
  EXPECT_TRUE(contains(err, "dimension 99999999999999999999")) << err;
  EXPECT_FALSE(contains(err, "stoll")) << err;
  EXPECT_EQ(data::parse_image_shape("28,28"), (std::vector<int64_t>{28, 28}));
}

TEST(Range, AllOfAnEmptyDataSetSaysItIsEmpty) {
  const auto err = test_support::user_error_of([] { data::resolve_range({0, -1}, 0, "'empty.npy'"); });
  EXPECT_TRUE(contains(err, "'empty.npy' holds no images")) << err;
  EXPECT_FALSE(contains(err, "reaches past")) << err;
}

TEST(Dataset, EmptyNpyHoldsNoImages) {
  const auto dir = test_support::fresh_dir("ds_empty");
  data::write_npy_tensor(dir / "empty.npy", torch::zeros({0, 28, 28}));
  data::DataSpec spec;
  spec.source = (dir / "empty.npy").string();
  const auto err = test_support::user_error_of([&] { data::dataset_size(spec); });
  EXPECT_TRUE(contains(err, "empty.npy' holds no images")) << err;
}

TEST(Dataset, ImagesOfNoPixelsAreAnError) {
  const auto dir = test_support::fresh_dir("ds_nopixels");
  data::write_npy_tensor(dir / "flat.npy", torch::zeros({3, 0, 5}));
  data::DataSpec spec;
  spec.source = (dir / "flat.npy").string();
  const auto err = test_support::user_error_of([&] { data::load_dataset(spec); });
  EXPECT_TRUE(contains(err, "flat.npy' holds images of 0 pixels")) << err;
}

TEST(Dataset, AFolderAsDataIsNamed) {
  const auto dir = test_support::fresh_dir("ds_folder");
  data::DataSpec spec;
  spec.source = dir.string();
  const auto err = test_support::user_error_of([&] { data::load_dataset(spec); });
  EXPECT_TRUE(contains(err, "is a folder, not a file")) << err;
  EXPECT_FALSE(contains(err, "basic_filebuf")) << err;
}

namespace {
// The error of loading 20 4x4 images with the labels file `labels`.
std::string labels_error(const std::filesystem::path& dir, const std::filesystem::path& labels) {
  data::write_idx(dir / "img", torch::zeros({20, 4, 4}, torch::kUInt8));
  data::DataSpec spec;
  spec.source = (dir / "img").string();
  spec.labels_path = labels.string();
  return test_support::user_error_of([&] { data::load_dataset(spec); });
}
}  // namespace

TEST(Dataset, ShortLabelsNpyIsNamed) {
  const auto dir = test_support::fresh_dir("ds_short_labels");
  data::write_npy_tensor(dir / "labels.npy", torch::zeros({7}, torch::kInt64));
  const auto err = labels_error(dir, dir / "labels.npy");
  EXPECT_TRUE(contains(err, "labels.npy' holds 7 labels, but")) << err;
  EXPECT_TRUE(contains(err, "holds 20 images")) << err;
  EXPECT_FALSE(contains(err, "select()")) << err;
}

TEST(Dataset, TwoDimensionalLabelsSayTheirShape) {
  const auto dir = test_support::fresh_dir("ds_2d_labels");
  data::write_npy_tensor(dir / "labels.npy", torch::zeros({20, 1}, torch::kInt64));
  const auto err = labels_error(dir, dir / "labels.npy");
  EXPECT_TRUE(contains(err, "labels.npy' holds labels of shape (20, 1), expected a 1-D array")) << err;
  // A 0-D array (numpy.save of a scalar) too, without LibTorch's "dimension specified as 0".
  data::write_npy_tensor(dir / "scalar.npy", torch::tensor(3, torch::kInt64));
  const auto scalar = labels_error(dir, dir / "scalar.npy");
  EXPECT_TRUE(contains(scalar, "holds labels of shape (), expected a 1-D array")) << scalar;
}

TEST(Dataset, LabelsOutsideZeroToNineAreRefusedAtLoad) {
  const auto dir = test_support::fresh_dir("ds_bad_labels");
  auto idx = torch::zeros({20}, torch::kUInt8);
  idx[13] = 10;
  data::write_idx(dir / "lab", idx);
  auto err = labels_error(dir, dir / "lab");
  EXPECT_TRUE(contains(err, "holds label 10 at position 13, expected a class 0..9")) << err;
  auto npy = torch::zeros({20}, torch::kInt64);
  npy[2] = -1;
  data::write_npy_tensor(dir / "neg.npy", npy);
  err = labels_error(dir, dir / "neg.npy");
  EXPECT_TRUE(contains(err, "neg.npy' holds label -1 at position 2")) << err;
  auto floats = torch::zeros({20});
  floats[5] = 2.5;
  data::write_npy_tensor(dir / "float.npy", floats);
  err = labels_error(dir, dir / "float.npy");
  EXPECT_TRUE(contains(err, "float.npy' holds label 2.5 at position 5, expected a whole number")) << err;
  // Whole floats 0..9 are labels.
  data::write_npy_tensor(dir / "ok.npy", torch::arange(20).remainder(10).to(torch::kFloat32));
  EXPECT_EQ(labels_error(dir, dir / "ok.npy"), "");
}

TEST(Dataset, ImageShapeWhoseProductOverflowsIsRefused) {
  const auto dir = test_support::fresh_dir("ds_shape_overflow");
  data::write_npy_tensor(dir / "flat.npy", torch::zeros({2, 16}));
  data::DataSpec spec;
  spec.source = (dir / "flat.npy").string();
  spec.image_shape = data::parse_image_shape("999999999,999999999,999999999");
  const auto err = test_support::user_error_of([&] { data::load_dataset(spec); });
  EXPECT_TRUE(contains(err, "flat.npy' has flat images of 16 pixels")) << err;
}

// Found by fuzz_idx: 10^9 images of 0 x 0 pixels fit in 16 bytes, and labels for them took 8 GB.
TEST(Dataset, ManyImagesOfNoPixelsAreRefusedBeforeAllocating) {
  const auto dir = test_support::fresh_dir("ds_zero_pixels");
  util::write_file_atomic(dir / "img", std::string("\0\0\x08\x03\x3b\x9a\xca\x00", 8) + std::string(8, '\0'));
  data::DataSpec spec;
  spec.source = (dir / "img").string();
  const auto err = test_support::user_error_of([&] { data::load_dataset(spec); });
  EXPECT_TRUE(contains(err, "holds images of 0 pixels (0 x 0)")) << err;
}
