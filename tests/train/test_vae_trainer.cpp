// VAE training: the presets and their flags, the epoch kept, the schedule's effect on the run,
// and resuming from the state file: an interrupted training continued ends with exactly the
// parameters of an uninterrupted one; corrupt or foreign state files are ignored.
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "synthetic.h"
#include "test_helpers.h"
#include "pipeline/train_step.h"
#include "train/train_state.h"
#include "train/vae_trainer.h"
#include "util/error.h"
#include "util/progress.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::user_error_of;

namespace {

struct Interrupted {};  // thrown from on_epoch: the process "dies" after that epoch

std::vector<torch::Tensor> copy_parameters(model::Vae& vae) {
  std::vector<torch::Tensor> out;
  for (const auto& p : vae->parameters()) out.push_back(p.detach().clone());
  return out;
}

// Every tensor identical, bit for bit.
void expect_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k)
    EXPECT_TRUE(torch::equal(a[k], b[k]))
        << "parameter " << k << " differs by up to " << (a[k] - b[k]).abs().max().item<double>();
}

// A held-out figure that replays `values`, one per call.
train::HeldOutEvaluator scripted(std::vector<double> values) {
  auto next = std::make_shared<size_t>(0);
  return [values, next](model::Vae&) {
    return train::HeldOut{values.at((*next)++), "scripted"};
  };
}

class VaeTraining : public ::testing::Test {
 protected:
  void SetUp() override { util::Progress::set_enabled(false); }

  train::TrainConfig config(int64_t epochs) const {
    auto c = train::train_config("fast", {}, /*seed=*/4);
    c.epochs = epochs;
    c.batch_size = 64;
    c.learning_rate = 3e-3;
    return c;
  }
  model::Vae fresh_model(uint64_t seed = 4) const {
    torch::manual_seed(seed);
    return model::Vae(test_support::tiny_vae_config());
  }
  // The real kind of figure: a seeded IWAE bound on held-out images.
  train::TrainHooks iwae_hooks(const fs::path& state) const {
    train::TrainHooks h;
    const auto x = eval_.images;
    h.held_out = [x](model::Vae& vae) {
      return train::HeldOut{pipeline::iwae_mean(vae, x, 5, /*seed=*/6), "iwae_5"};
    };
    h.state_file = state;
    h.state_key = {{"data", "synthetic"}};
    return h;
  }
  // Trains `epochs` (interrupted after `stop_after` if > 0), from a fresh model.
  train::TrainResult train(model::Vae& vae, const train::TrainConfig& c,
                           train::TrainHooks hooks, int64_t stop_after = 0) {
    if (stop_after > 0)
      hooks.on_epoch = [stop_after](const train::EpochLog& l, model::Vae&) {
        if (l.epoch == stop_after) throw Interrupted{};
      };
    return train::train_vae(vae, train_, &eval_, c, hooks);
  }

  const data::Dataset train_ = test_support::synthetic_images(512, 1);
  const data::Dataset eval_ = test_support::synthetic_images(50, 2);
};

}  // namespace

TEST(TrainConfig, PresetsAndFlags) {
  const auto fast = train::train_config("fast", {}, 0);
  EXPECT_EQ(fast.epochs, 20);
  EXPECT_EQ(fast.lr_patience, 2);
  EXPECT_EQ(fast.stop_patience, 5);
  EXPECT_TRUE(fast.keep_best);
  const auto thesis = train::train_config("thesis", {}, 0);  // the tutorial, literally
  EXPECT_EQ(thesis.epochs, 10);
  EXPECT_EQ(thesis.batch_size, 32);
  EXPECT_EQ(thesis.learning_rate, 1e-4);
  EXPECT_EQ(thesis.lr_patience, 0);
  EXPECT_EQ(thesis.stop_patience, 0);
  EXPECT_FALSE(thesis.keep_best);
  EXPECT_EQ(thesis.to_json()["keep"], "last");
  const auto converged = train::train_config("converged", {}, 0);
  EXPECT_EQ(converged.epochs, 200);
  EXPECT_EQ(converged.batch_size, 128);
  EXPECT_EQ(converged.learning_rate, 5e-4);
  EXPECT_EQ(converged.lr_patience, 2);
  train::TrainOverrides given;
  given.lr_patience = 0;
  given.stop_patience = 7;
  const auto custom = train::train_config("fast", given, 0);
  EXPECT_EQ(custom.lr_patience, 0);
  EXPECT_EQ(custom.stop_patience, 7);

  auto refused = [](const train::TrainOverrides& g, const std::string& preset = "fast") {
    return user_error_of([&] { train::train_config(preset, g, 0); });
  };
  train::TrainOverrides bad;
  bad.lr_patience = -1;
  EXPECT_TRUE(contains(refused(bad), "--lr-patience must be 0")) << refused(bad);
  bad = {};
  bad.stop_patience = -3;
  EXPECT_TRUE(contains(refused(bad), "--stop-patience must be 0")) << refused(bad);
  bad.stop_patience = 1000000000;
  EXPECT_TRUE(contains(refused(bad), "got 1000000000")) << refused(bad);
  EXPECT_TRUE(contains(refused({}, "slow"), "unknown training preset 'slow'"));
  EXPECT_TRUE(contains(refused({}, "slow"), "converged"));
}

// The weights kept are those of the epoch with the best figure, not the last; with keep-best
// off (the thesis preset) the last epoch's, the best still recorded.
TEST_F(VaeTraining, KeepsTheBestEpoch) {
  for (const bool keep_best : {true, false}) {
    SCOPED_TRACE(keep_best ? "keep best" : "keep last");
    auto c = config(4);
    c.lr_patience = c.stop_patience = 0;
    c.keep_best = keep_best;
    std::vector<std::vector<torch::Tensor>> after;  // the weights after each epoch
    train::TrainHooks hooks;
    hooks.held_out = scripted({-5, -2, -3, -4});
    hooks.on_epoch = [&](const train::EpochLog&, model::Vae& v) {
      after.push_back(copy_parameters(v));
    };
    auto vae = fresh_model();
    const auto r = train::train_vae(vae, train_, &eval_, c, hooks);
    ASSERT_EQ(after.size(), 4u);
    EXPECT_EQ(r.best_epoch, 2);
    EXPECT_EQ(r.best_held_out, -2);
    EXPECT_EQ(r.held_out_name, "scripted");
    EXPECT_EQ(r.kept_epoch, keep_best ? 2 : 4);
    EXPECT_FALSE(r.stopped_early);
    expect_identical(copy_parameters(vae), after[keep_best ? 1 : 3]);
    EXPECT_FALSE(torch::equal(after[1][0], after[3][0])) << "the epochs should differ";
    EXPECT_EQ(r.to_json()["best_epoch"], 2);
  }
}

// The schedule acts on the run: the step size halves after 2 epochs without a better figure and
// training stops after 3.
TEST_F(VaeTraining, ScheduleHalvesTheStepAndStopsEarly) {
  auto c = config(10);
  c.lr_patience = 2;
  c.stop_patience = 3;
  train::TrainHooks hooks;
  hooks.held_out = scripted({-1, -2, -3, -4, -5, -6, -7, -8, -9, -10});
  auto vae = fresh_model();
  const auto r = train::train_vae(vae, train_, &eval_, c, hooks);
  ASSERT_EQ(r.logs.size(), 4u);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.kept_epoch, 1);
  const std::vector<double> lrs = {3e-3, 3e-3, 3e-3, 1.5e-3};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r.logs[i].learning_rate, lrs[i]) << "epoch " << i + 1;
  // Without a figure nothing of it applies: every epoch, a fixed step, the last one kept.
  auto plain = fresh_model();
  c.epochs = 3;
  const auto p = train::train_vae(plain, train_, nullptr, c, {});
  ASSERT_EQ(p.logs.size(), 3u);
  EXPECT_EQ(p.kept_epoch, 3);
  EXPECT_EQ(p.best_epoch, 0);
  EXPECT_TRUE(std::isnan(p.logs[0].held_out) && std::isnan(p.logs[0].test_elbo));
}

// Interrupted after epoch 2 and continued from the state file: the parameters, the logs and the
// epoch kept are those of an uninterrupted run, bit for bit.
TEST_F(VaeTraining, ResumesToTheSameParameters) {
  const auto dir = test_support::fresh_dir("train_resume");
  auto c = config(4);
  c.lr_patience = 1;  // the schedule's state matters too
  auto reference = fresh_model();
  const auto a = train(reference, c, iwae_hooks(dir / "reference.bin"));
  ASSERT_EQ(a.logs.size(), 4u);

  auto interrupted = fresh_model();
  EXPECT_THROW(train(interrupted, c, iwae_hooks(dir / "state.bin"), /*stop_after=*/2),
               Interrupted);
  ASSERT_TRUE(fs::exists(dir / "state.bin"));
  EXPECT_EQ(train::read_train_state(dir / "state.bin").logs.size(), 2u);
  // Another process: another model and another generator state, all replaced by the state's.
  auto resumed = fresh_model(/*seed=*/99);
  torch::manual_seed(12345);
  const auto b = train(resumed, c, iwae_hooks(dir / "state.bin"));
  EXPECT_EQ(b.resumed_after, 2);
  ASSERT_EQ(b.logs.size(), a.logs.size());
  for (size_t i = 0; i < a.logs.size(); ++i) {
    SCOPED_TRACE("epoch " + std::to_string(i + 1));
    EXPECT_EQ(a.logs[i].train_elbo, b.logs[i].train_elbo);
    EXPECT_EQ(a.logs[i].test_elbo, b.logs[i].test_elbo);
    EXPECT_EQ(a.logs[i].held_out, b.logs[i].held_out);
    EXPECT_EQ(a.logs[i].learning_rate, b.logs[i].learning_rate);
  }
  EXPECT_EQ(a.kept_epoch, b.kept_epoch);
  EXPECT_EQ(a.best_held_out, b.best_held_out);
  EXPECT_EQ(b.held_out_name, "iwae_5");
  expect_identical(copy_parameters(resumed), copy_parameters(reference));

  // A state of a finished training: nothing left to train, the kept weights restored.
  auto again = fresh_model(/*seed=*/7);
  const auto d = train(again, c, iwae_hooks(dir / "reference.bin"));
  EXPECT_EQ(d.resumed_after, 4);
  EXPECT_EQ(d.kept_epoch, a.kept_epoch);
  expect_identical(copy_parameters(again), copy_parameters(reference));
}

// A state file that is corrupt, truncated, not one at all, or made for other settings: a
// warning, and training from the start (the same parameters as a run without any state).
TEST_F(VaeTraining, IgnoresCorruptOrForeignStates) {
  const auto dir = test_support::fresh_dir("train_bad_state");
  const auto c = config(3);
  auto reference = fresh_model();
  train(reference, c, iwae_hooks(dir / "reference.bin"));
  const auto expected = copy_parameters(reference);

  auto interrupted = fresh_model();
  EXPECT_THROW(train(interrupted, c, iwae_hooks(dir / "good.bin"), 2), Interrupted);
  std::ifstream in(dir / "good.bin", std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(good.size(), 1000u);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
  };
  std::string flipped = good;
  flipped[flipped.size() - 100] ^= 0x10;  // a weight's byte
  std::string header_broken = good;
  header_broken[good.find("made_for") + 2] = '\x01';
  const std::vector<fs::path> bad = {
      write("flipped.bin", flipped), write("truncated.bin", good.substr(0, good.size() / 2)),
      write("header.bin", header_broken), write("text.bin", "not a state\n"),
      write("empty.bin", "")};
  for (const auto& path : bad) {
    SCOPED_TRACE(path.filename().string());
    EXPECT_FALSE(user_error_of([&] { train::read_train_state(path); }).empty());
    auto vae = fresh_model();
    train::TrainResult r;
    ASSERT_NO_THROW(r = train(vae, c, iwae_hooks(path)));
    EXPECT_EQ(r.resumed_after, 0);
    expect_identical(copy_parameters(vae), expected);
  }
  // Whole, but made for other settings (another seed, another data key).
  auto other_seed = c;
  other_seed.seed = 5;
  auto vae = fresh_model();
  const auto r = train(vae, other_seed, iwae_hooks(write("seed.bin", good)));
  EXPECT_EQ(r.resumed_after, 0);
  auto hooks = iwae_hooks(write("key.bin", good));
  hooks.state_key = {{"data", "other"}};
  auto vae2 = fresh_model();
  EXPECT_EQ(train(vae2, c, hooks).resumed_after, 0);
  expect_identical(copy_parameters(vae2), expected);
}
