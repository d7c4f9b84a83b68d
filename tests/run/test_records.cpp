// The run folder's typed records (run/records.h): each round-trips through the manifest's JSON,
// and a missing or malformed value is a UserError naming the manifest and the key, never a raw
// JSON exception or a crash.
#include <filesystem>

#include <gtest/gtest.h>

#include "run/records.h"
#include "run/run_folder.h"
#include "test_helpers.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace preimage;
using nlohmann::json;
using test_support::contains;

using test_support::user_error_of;

TEST(Records, ImagesRoundTrip) {
  run::ImagesRecord r;
  r.spec.source = "mnist";
  r.spec.split = "test";
  r.spec.labels_path = "labels.idx";
  r.spec.data_dir = "/data";
  r.spec.binarize = std::nullopt;  // grey levels kept
  r.range = {100, 300};
  r.count = 200;
  r.name = "mnist/test";
  r.height = 28;
  r.width = 28;
  const auto back = run::images_from_json(run::to_json(r), "m");
  EXPECT_EQ(back.spec.source, "mnist");
  EXPECT_EQ(back.spec.split, "test");
  EXPECT_EQ(back.spec.labels_path, "labels.idx");
  EXPECT_EQ(back.spec.data_dir, "/data");
  EXPECT_FALSE(back.spec.binarize);
  EXPECT_EQ(back.range.begin, 100);
  EXPECT_EQ(back.range.end, 300);
  EXPECT_EQ(back.count, 200);
  EXPECT_EQ(back.name, "mnist/test");
  EXPECT_EQ(back.height, 28);
}

TEST(Records, ModelWithAndWithoutTraining) {
  run::TrainingRecord t;
  t.settings = {{"epochs", 3}};
  t.images = "all";
  t.data = "mnist/train";
  t.final_train_elbo = -150.5;
  t.seconds = 12;
  // Without a test ELBO (train --eval-images none): null in the manifest, absent once read.
  const auto back = run::model_from_json(run::to_json(run::ModelRecord{"model.pt", {}, t}), "m");
  ASSERT_TRUE(back.training.has_value());
  EXPECT_EQ(back.path, "model.pt");
  EXPECT_FALSE(back.training->final_test_elbo.has_value());
  EXPECT_EQ(back.training->settings["epochs"], 3);
  t.final_test_elbo = -160.25;
  EXPECT_EQ(*run::model_from_json(run::to_json(run::ModelRecord{"m.pt", {}, t}), "m")
                 .training->final_test_elbo,
            -160.25);
  // A checkpoint used as it is (run --model): no training record.
  EXPECT_FALSE(run::model_from_json(run::to_json(run::ModelRecord{"/abs/m.pt", {}, {}}), "m")
                   .training.has_value());
}

TEST(Records, MethodRoundTripAndItsLoss) {
  run::MethodRecord r;
  r.method = "grid";
  r.settings = {{"loss", "bernoulli"}, {"grid_points", 201}};
  r.seconds = 2.5;
  r.curve_images = {0, 3};
  r.images = 40;
  r.diagnostics = {"far_from_start"};
  const auto back = run::method_from_json("grid", run::to_json(r), "m");
  EXPECT_EQ(back.curve_images, r.curve_images);
  EXPECT_EQ(back.diagnostics, r.diagnostics);
  EXPECT_EQ(back.images, 40);
  EXPECT_EQ(back.loss(), "bernoulli");
  EXPECT_EQ(run::method_from_json("gd", json::object(), "m").loss(), "squared-error");
}

TEST(Records, AShardIndexOutsideItsCountIsRefused) {
  for (const auto& [index, count] :
       std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {100, 2}, {1000000000, 2}, {-100000000, 2},
                                                {0, 0}}) {
    const json j = {{"index", index}, {"count", count}, {"parent", "/p"}, {"parent_range", {0, 10}}};
    const auto message = user_error_of([&] { run::shard_from_json(j, "part/manifest.json"); });
    EXPECT_TRUE(contains(message, "part/manifest.json")) << index << "/" << count << ": " << message;
    EXPECT_TRUE(contains(message, "0 <= k < n")) << message;
  }
  const json ok = {{"index", 1}, {"count", 3}, {"parent", "/p"}, {"parent_range", {0, 10}}};
  EXPECT_EQ(run::shard_from_json(ok, "m").index, 1);
}

TEST(Records, MalformedValuesNameTheManifestAndTheKey) {
  json images = run::to_json(run::ImagesRecord{});
  images["range"] = "0:10";
  auto message = user_error_of([&] { run::images_from_json(images, "RUN/manifest.json, 'images'"); });
  EXPECT_TRUE(contains(message, "RUN/manifest.json") && contains(message, "'range'")) << message;
  images["range"] = json::array({5, 2});  // inverted
  message = user_error_of([&] { run::images_from_json(images, "M"); });
  EXPECT_TRUE(contains(message, "not a range")) << message;
  images.erase("source");
  message = user_error_of([&] { run::images_from_json(images, "M"); });
  EXPECT_TRUE(contains(message, "no 'source'")) << message;
  message = user_error_of([&] { run::model_from_json({{"path", 7}}, "M"); });
  EXPECT_TRUE(contains(message, "'path'")) << message;
  message = user_error_of([&] { run::method_from_json("gd", {{"curve_images", "x"}}, "M"); });
  EXPECT_TRUE(contains(message, "'curve_images'")) << message;
}

TEST(Records, ARunFolderWithABrokenManifestSaysSo) {
  const auto dir = test_support::fresh_dir("records_manifest");
  util::write_file_atomic(dir / "manifest.json", "[1, 2]");
  auto message = user_error_of([&] { run::RunFolder::open(dir); });
  EXPECT_TRUE(contains(message, "manifest.json") && contains(message, "JSON object")) << message;
  util::write_file_atomic(dir / "manifest.json", "{\"method_order\": 3}");
  auto run = run::RunFolder::open(dir);
  message = user_error_of([&] { run.methods(); });
  EXPECT_TRUE(contains(message, "method_order")) << message;
  message = user_error_of([&] { run.model(); });
  EXPECT_TRUE(contains(message, "records no model")) << message;
  message = user_error_of([&] { run.images(); });
  EXPECT_TRUE(contains(message, "records no images")) << message;
  message = user_error_of([&] { run.method("grid"); });
  EXPECT_TRUE(contains(message, "no inversion by grid")) << message;
}
