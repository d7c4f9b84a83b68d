// The thesis's classifier (shapes, checkpoints, a short real training) and the bonus models'
// regression training.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "analysis/bonus_models.h"
#include "analysis/classifier_source.h"
#include "model/bonus.h"
#include "model/checkpoint.h"
#include "model/classifier.h"
#include "train/bonus_trainer.h"
#include "train/classifier_trainer.h"
#include "util/cache_dir.h"
#include "util/error.h"
#include "util/progress.h"

using namespace preimage;
using test_support::contains;

namespace {
int64_t parameter_count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}
}  // namespace

TEST(Classifier, ArchitectureShapes) {
  model::Classifier thesis(model::ClassifierConfig::preset("thesis", 28, 28));
  EXPECT_EQ(thesis->flat_features(), 576);  // 28 -> 26 -> 13 -> 11 -> 5 -> 3; 3 * 3 * 64
  // Keras's summary of this network on 28x28x1: 320 + 18496 + 36928 + 36928 + 650.
  EXPECT_EQ(parameter_count(*thesis), 93322);
  EXPECT_EQ(thesis->config().preset_name(), "thesis");
  model::Classifier net;  // the lean default: 160 + 4640 + 9248 + 18496 + 650
  EXPECT_EQ(net->flat_features(), 288);
  EXPECT_EQ(parameter_count(*net), 33194);
  EXPECT_EQ(net->config().preset_name(), "lean");
  auto logits = net->forward(torch::rand({5, 784}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(net->forward(torch::rand({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
  auto classes = net->predict(torch::rand({7, 784}), /*batch_size=*/3);
  EXPECT_EQ(classes.sizes(), (std::vector<int64_t>{7}));
  EXPECT_EQ(classes.scalar_type(), torch::kInt64);
}

// A record written before the widths were settings is the thesis's network; widths out of range
// or a wrong count are refused by name.
TEST(Classifier, ArchitectureRecords) {
  const nlohmann::json old_record = {{"kind", "mnist-cnn"}, {"image_height", 28},
                                     {"image_width", 28}, {"classes", 10}};
  EXPECT_EQ(model::ClassifierConfig::from_json(old_record).preset_name(), "thesis");
  const auto lean = model::ClassifierConfig::preset("lean", 28, 28);
  EXPECT_EQ(model::ClassifierConfig::from_json(lean.to_json()), lean);
  auto bad = lean.to_json();
  bad["channels"] = {16, 32};
  EXPECT_TRUE(contains(test_support::user_error_of([&] { model::ClassifierConfig::from_json(bad); }),
                       "3 widths"));
  bad["channels"] = {16, -1, 32};
  EXPECT_TRUE(contains(test_support::user_error_of([&] { model::ClassifierConfig::from_json(bad); }),
                       "1..4096"));
  auto missing = lean.to_json();
  missing.erase("classes");
  EXPECT_TRUE(contains(test_support::user_error_of([&] { model::ClassifierConfig::from_json(missing); }),
                       "no 'classes'"));
  EXPECT_TRUE(contains(test_support::user_error_of([] { model::ClassifierConfig::preset("wide", 28, 28); }),
                       "unknown classifier architecture 'wide'"));
}

TEST(Classifier, CheckpointRoundTripAndMismatch) {
  const auto dir = test_support::fresh_dir("classifier_ckpt");
  torch::manual_seed(0);
  model::Classifier net;
  model::save_checkpoint(*net, net->config().to_json(), {{"data", "mnist"}}, dir / "c.pt");
  auto loaded = model::load_classifier(dir / "c.pt");
  auto x = torch::rand({3, 784});
  EXPECT_TRUE(torch::allclose(net->forward(x), loaded->forward(x)));

  // A VAE checkpoint given as the classifier.
  model::VaeConfig vc;
  vc.hidden_width = 8;
  model::Vae vae(vc);
  model::save_checkpoint(*vae, vc.to_json(), {}, dir / "vae.pt");
  const auto msg = test_support::user_error_of([&] { model::load_classifier(dir / "vae.pt"); });
  EXPECT_TRUE(contains(msg, "not the classifier")) << msg;
  EXPECT_TRUE(contains(msg, "vae.pt")) << msg;

  // A classifier of another image size loaded as the 28x28 one.
  model::Classifier small(model::ClassifierConfig{20, 20, 10});
  model::save_checkpoint(*small, small->config().to_json(), {}, dir / "small.pt");
  const auto msg2 = test_support::user_error_of([&] { model::load_checkpoint(*net, net->config().to_json(), dir / "small.pt"); });
  EXPECT_TRUE(contains(msg2, "small.pt") && contains(msg2, "expected")) << msg2;

  const auto msg3 = test_support::user_error_of([&] { model::load_classifier(dir / "missing.pt"); });
  EXPECT_TRUE(contains(msg3, "missing.pt")) << msg3;
}

TEST(Classifier, LearnsFromAFewThousandImages) {
  util::Progress::set_enabled(false);
  data::DataSpec spec;
  spec.data_dir = PREIMAGE_DATA_DIR;
  const auto train_set = data::load_dataset(spec, data::parse_range("2000"));
  spec.split = "test";
  const auto test_set = data::load_dataset(spec, data::parse_range("1000"));
  torch::manual_seed(0);
  model::Classifier net;
  train::ClassifierTrainConfig cfg;
  cfg.epochs = 2;
  cfg.batch_size = 32;
  auto logs = train::train_classifier(net, train_set, &test_set, cfg);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_LT(logs[1].train_loss, logs[0].train_loss);
  EXPECT_GT(logs.back().test_accuracy, 0.90) << "2 epochs on 2000 binarized images";
  EXPECT_DOUBLE_EQ(train::classifier_accuracy(net, test_set), logs.back().test_accuracy);
}

TEST(Classifier, MissingCheckpointWithoutTrainingIsAnError) {
  analysis::ClassifierJob job;
  job.out = test_support::fresh_dir("classifier_missing") / "none.pt";
  const auto msg = test_support::user_error_of([&] { analysis::load_or_train_classifier(job, false, "mnist"); });
  EXPECT_TRUE(contains(msg, "none.pt") && contains(msg, "does not exist")) << msg;
}

TEST(BonusModels, RegressionReducesMseOnASyntheticMap) {
  util::Progress::set_enabled(false);
  // y = A x + b, a map a 2-64-64-2 network learns quickly.
  torch::manual_seed(1);
  auto x = torch::randn({500, 2});
  auto a = torch::tensor({1.5f, -0.5f, 0.3f, 2.0f}).view({2, 2});
  auto y = x.mm(a) + torch::tensor({0.2f, -1.0f});
  model::Mlp net(model::bonus_shape(2));
  const double before = train::regression_mse(net, x, y);
  train::RegressionConfig cfg;
  cfg.epochs = 20;
  auto logs = train::train_regression(net, x, y, cfg);
  ASSERT_EQ(logs.size(), 20u);
  EXPECT_LT(logs.back().validation_mse, before / 20) << "before " << before;
  EXPECT_LT(logs.back().train_mse, logs.front().train_mse);
  EXPECT_EQ(train::training_rows(500, 0.2), 400);  // Keras: the last 20% held out
  EXPECT_EQ(train::training_rows(10, 0.25), 8);    // floor(2.5) = 2 held out
}

TEST(BonusModels, FitsMbAndMaWithOneSplit) {
  util::Progress::set_enabled(false);
  torch::manual_seed(2);
  auto mt = torch::randn({50, 2}), images = torch::rand({50, 16});
  auto mn = mt * 1.1;
  analysis::BonusConfig cfg;
  cfg.latent.epochs = 3;
  cfg.image.epochs = 2;
  auto b = analysis::fit_bonus_models(mt, mn, images, cfg);
  EXPECT_EQ(b.train_rows, 40);
  EXPECT_EQ(b.mb.sizes(), (std::vector<int64_t>{50, 2}));
  EXPECT_EQ(b.ma.sizes(), (std::vector<int64_t>{50, 2}));
  EXPECT_EQ(b.report["MB"]["architecture"]["width"], 64);
  EXPECT_EQ(b.report["MA"]["train"]["validation_split"], 0.2);
  EXPECT_EQ(b.report["MB"]["log"].size(), 3u);
}

// The cache: $XDG_CACHE_HOME/preimage when absolute (the XDG rule: a relative one is ignored),
// else ~/.cache/preimage.
TEST(ClassifierCache, TheUsersCacheFolder) {
  const std::string saved_xdg = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  const std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(util::user_cache_dir(), std::filesystem::path("/somewhere/cache/preimage"));
  ::setenv("XDG_CACHE_HOME", "relative/cache", 1);
  EXPECT_EQ(util::user_cache_dir(), std::filesystem::path("/home/someone/.cache/preimage"));
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(util::user_cache_dir(), std::filesystem::path("/home/someone/.cache/preimage"));
  ::unsetenv("HOME");
  EXPECT_TRUE(contains(test_support::user_error_of([] { util::user_cache_dir(); }), "XDG_CACHE_HOME"));
  if (!saved_home.empty()) ::setenv("HOME", saved_home.c_str(), 1);
  if (!saved_xdg.empty()) ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

// Without --classifier the classifier comes from the cache, keyed by the data and the settings:
// trained there on first use, loaded the second time, another on other settings; a miss with
// training refused is an error naming the cache's file.
TEST(ClassifierCache, TrainedOnceThenLoadedKeyedByDataAndSettings) {
  util::Progress::set_enabled(false);
  const std::string saved = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  const auto cache = test_support::fresh_dir("classifier_cache");
  ::setenv("XDG_CACHE_HOME", cache.c_str(), 1);
  analysis::ClassifierJob job;
  job.data.data_dir = PREIMAGE_DATA_DIR;
  job.train_images = "0:600";
  job.test_images = "0:200";
  job.train.epochs = 1;
  const auto missing = test_support::user_error_of([&] { analysis::load_or_train_classifier(job, false, "mnist"); });
  EXPECT_TRUE(contains(missing, "--no-train-classifier") && contains(missing, cache.string())) << missing;

  auto first = analysis::load_or_train_classifier(job, true, "mnist");
  EXPECT_TRUE(first.trained_now && first.cached);
  EXPECT_EQ(first.path.parent_path(), cache / "preimage" / "classifiers");
  EXPECT_EQ(first.path, analysis::cached_classifier_path(job));
  auto second = analysis::load_or_train_classifier(job, true, "mnist");
  EXPECT_FALSE(second.trained_now);
  EXPECT_EQ(second.path, first.path);
  auto x = torch::rand({4, 784});
  EXPECT_TRUE(torch::equal(first.net->forward(x), second.net->forward(x)));

  analysis::ClassifierJob other = job;
  other.train.seed = 1;  // other settings: another file
  EXPECT_NE(analysis::cached_classifier_path(other), first.path);
  other = job;
  other.train_images = "0:601";  // other data: another file
  EXPECT_NE(analysis::cached_classifier_path(other), first.path);
  if (saved.empty()) ::unsetenv("XDG_CACHE_HOME"); else ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}
