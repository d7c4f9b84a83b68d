// Your own models through `preimage run` as a user runs it: a decoder exported from PyTorch
// (TorchScript, with its encoder), the thesis's Keras weights, an .npz, a convolutional decoder
// without an encoder; each to a report, the model recorded with its SHA-256; and the errors a
// mismatched model or a missing encoder give before any work.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "data/tensor_io.h"
#include "fixture_runs.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {

const fs::path kModels = fs::path(PREIMAGE_TEST_FIXTURES) / "models";

std::string data_flags(int images) {
  return std::string("--data-dir ") + PREIMAGE_DATA_DIR + " --images " + std::to_string(images) +
         " --classifier " + test_support::fixture_classifier().string() +
         " --bonus-epochs 2 --amortized-epochs 1 --quiet";
}

nlohmann::json manifest(const fs::path& run) {
  return nlohmann::json::parse(util::read_file(run / "manifest.json"));
}

}  // namespace

TEST(OwnModels, ATorchScriptDecoderAndEncoderRunToAReport) {
  const auto run = test_support::fresh_dir("own_torchscript") / "run";
  auto r = run_cli("run --out " + run.string() + " --decoder " + (kModels / "vae_decoder.pt").string() +
                   " --encoder " + (kModels / "vae_encoder.pt").string() + " " + data_flags(100));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "epoch:")) << "nothing is trained";
  const auto m = manifest(run);
  EXPECT_EQ(m["model"]["source"]["kind"], "torchscript");
  EXPECT_EQ(m["model"]["source"]["latent_dim"], 2);
  EXPECT_EQ(m["model"]["source"]["decoder"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["model"]["source"]["image_shape"], (std::vector<int64_t>{1, 28, 28}));
  for (const char* f : {"latents/MT.npy", "latents/adafactor.npy", "analysis.json", "report.html",
                        "figures/latent_space.png", "figures/panel_chosen_grey.png"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  const auto a = nlohmann::json::parse(util::read_file(run / "analysis.json"));
  EXPECT_EQ(a["success_rate"]["MT"]["vs_original_prediction"]["total"], 100);
  auto initial = data::read_npy_tensor(run / "losses/adafactor_initial.npy");
  auto final_loss = data::read_npy_tensor(run / "losses/adafactor_final.npy");
  EXPECT_LT(final_loss.mean().item<double>(), initial.mean().item<double>());

  // The run's model is this decoder: another one is refused before any work.
  r = run_cli("invert " + run.string() + " --decoder " + (kModels / "conv_decoder.pt").string() +
              " --quiet");
  test_support::expect_failure(r, "already has its model");
  // The same one is accepted (by SHA-256).
  r = run_cli("invert " + run.string() + " --method gauss-newton --decoder " +
              (kModels / "vae_decoder.pt").string() + " --encoder " +
              (kModels / "vae_encoder.pt").string() + " --quiet");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(OwnModels, TheThesisKerasWeightsAndAnNpzRunToAReport) {
  for (const auto& [file, method] :
       std::vector<std::pair<std::string, std::string>>{{"vae_keras3.weights.h5", "lbfgs"},
                                                        {"vae_keras2.h5", "grid"},
                                                        {"vae_pytorch.npz", "gauss-newton"}}) {
    const auto run = test_support::fresh_dir("own_weights") / file;
    auto r = run_cli("run --out " + run.string() + " --weights " + (kModels / file).string() +
                     " --method " + method + " " + data_flags(60));
    ASSERT_EQ(r.status, 0) << file << "\n" << r.output;
    const auto m = manifest(run);
    EXPECT_EQ(m["model"]["source"]["kind"], "weights") << file;
    EXPECT_TRUE(fs::exists(run / "report.html")) << file;
    EXPECT_TRUE(fs::exists(run / ("latents/" + method + ".npy"))) << file;
  }
}

TEST(OwnModels, ADecoderWithoutEncoderStartsFromRandomDrawsAndReports) {
  const auto dir = test_support::fresh_dir("own_conv");
  const std::string conv = " --decoder " + (kModels / "conv_decoder.pt").string();
  // The default start is the encoder's: refused, with the way out, before any work.
  auto r = run_cli("run --out " + (dir / "refused").string() + conv + " " + data_flags(40));
  test_support::expect_failure(r, "no encoder");
  EXPECT_TRUE(contains(r.output, "random:K")) << r.output;
  EXPECT_FALSE(fs::exists(dir / "refused" / "latents"));

  r = run_cli("run --out " + (dir / "run").string() + conv + " --start random:16 --method lbfgs " +
              data_flags(40));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir / "run" / "latents/MT.npy")) << "no encoder, no MT";
  EXPECT_TRUE(fs::exists(dir / "run" / "report.html"));
  const auto a = nlohmann::json::parse(util::read_file(dir / "run" / "analysis.json"));
  EXPECT_EQ(a["spaces"], (std::vector<std::string>{"lbfgs"}));
  EXPECT_TRUE(a["left_out"].contains("vector_analysis"));
  const std::string md = util::read_file(dir / "run" / "report.md");
  EXPECT_TRUE(contains(md, "no encoder")) << "the report says why the vector field is missing";
  // The same seed draws the same starts.
  r = run_cli("run --out " + (dir / "again").string() + conv + " --start random:16 --method lbfgs " +
              data_flags(40) + " --no-analyze --no-report");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(util::read_file(dir / "run" / "latents/lbfgs.npy"),
            util::read_file(dir / "again" / "latents/lbfgs.npy"));
}

TEST(OwnModels, AModelOfAnotherImageSizeIsRefusedNamingBoth) {
  const auto dir = test_support::fresh_dir("own_mismatch");
  // 28 x 28 images against a decoder of 16 pixels.
  auto x = torch::rand({10, 4, 4});
  data::write_npy_tensor(dir / "small.npy", x);
  auto r = run_cli("run --out " + (dir / "run").string() + " --data " + (dir / "small.npy").string() +
                   " --weights " + (kModels / "vae_pytorch.npz").string() + " --images 10 --quiet");
  test_support::expect_failure(r, "784");
  EXPECT_TRUE(contains(r.output, "16 pixels")) << r.output;
}

TEST(OwnModels, GreyTargetsAndImagesWithChannels) {
  const auto dir = test_support::fresh_dir("own_grey");
  // Grey-level MNIST targets (no binarization) through the .npz model.
  auto r = run_cli("run --out " + (dir / "grey").string() + " --weights " +
                   (kModels / "vae_pytorch.npz").string() + " --binarize none --method gauss-newton " +
                   data_flags(30) + " --no-analyze --no-report");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(manifest(dir / "grey")["images"]["binarize"].is_null());
  // Three-channel 4x4 images (N, C, H, W) against a decoder of 48 outputs given that shape.
  auto x = torch::rand({8, 3, 4, 4});
  data::write_npy_tensor(dir / "rgb.npy", x);
  const auto w1 = torch::randn({6, 2}), b1 = torch::zeros({6}), w2 = torch::randn({48, 6}),
             b2 = torch::zeros({48});
  fs::create_directories(dir / "rgb_weights");
  data::write_npy_tensor(dir / "rgb_weights" / "decoder.0.weight.npy", w1);
  data::write_npy_tensor(dir / "rgb_weights" / "decoder.0.bias.npy", b1);
  data::write_npy_tensor(dir / "rgb_weights" / "decoder.2.weight.npy", w2);
  data::write_npy_tensor(dir / "rgb_weights" / "decoder.2.bias.npy", b2);
  r = run_cli("run --out " + (dir / "rgb").string() + " --data " + (dir / "rgb.npy").string() +
              " --weights " + (dir / "rgb_weights").string() +
              " --image-shape 3,4,4 --binarize none --start random:8 --method lbfgs --images 8"
              " --no-analyze --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto m = manifest(dir / "rgb");
  EXPECT_EQ(m["images"]["channels"], 3);
  EXPECT_EQ(m["model"]["source"]["image_shape"], (std::vector<int64_t>{3, 4, 4}));
  EXPECT_TRUE(fs::exists(dir / "rgb" / "figures" / "panel_chosen_grey.png"));
}
