// Data sets: ranges, shards, binarization, custom files, bad input, and the real MNIST files.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/tensor_io.h"
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
