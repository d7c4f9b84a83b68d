// Models from outside preimage, against PyTorch itself: the TorchScript fixtures' outputs,
// gradients and Jacobians equal PyTorch's (golden values written by
// scripts/make_model_fixtures.py); the same weights read from a PyTorch-layout .npz, a
// Keras-layout .npz, a Keras 2 .h5 and a Keras 3 .weights.h5 decode alike; the convolutional
// decoder's known optimum is recovered; every bad file is a clear error naming it.
#include <chrono>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "data/archives.h"
#include "decoders/model_source.h"
#include "solvers/invert.h"
#include "test_helpers.h"
#include "util/error.h"

using namespace preimage;
using test_support::contains;
using test_support::user_error_of;

namespace {

const std::filesystem::path kModels = std::filesystem::path(PREIMAGE_TEST_FIXTURES) / "models";

const std::map<std::string, torch::Tensor>& goldens() {
  static const auto g = [] {
    std::map<std::string, torch::Tensor> m;
    for (auto& [name, t] : data::read_npz(kModels / "goldens.npz")) m[name] = t;  // compressed
    return m;
  }();
  return g;
}

decoders::ModelSource torchscript(const std::string& decoder, const std::string& encoder = "") {
  decoders::ModelSource s;
  s.decoder = kModels / decoder;
  if (!encoder.empty()) s.encoder = kModels / encoder;
  return s;
}

decoders::ModelSource weights(const std::string& file) {
  decoders::ModelSource s;
  s.weights = kModels / file;
  return s;
}

// The decoder's logits, gradient of sum(w * logits) and Jacobian at the golden latents equal
// PyTorch's.
void expect_goldens(const decoders::Decoder& decoder, const std::string& name) {
  const auto& g = goldens();
  auto y = g.at(name + "_y");
  decoders::Trace trace;
  auto logits = decoder.forward(y, &trace);
  EXPECT_TRUE(torch::allclose(logits, g.at(name + "_logits"), 1e-5, 1e-5))
      << name << ": largest difference " << (logits - g.at(name + "_logits")).abs().max();
  auto grad = decoder.backward(trace, g.at(name + "_weights"));
  EXPECT_TRUE(torch::allclose(grad, g.at(name + "_grad"), 1e-4, 1e-5))
      << name << ": largest difference " << (grad - g.at(name + "_grad")).abs().max();
  auto J = decoder.jacobian(trace);
  EXPECT_TRUE(torch::allclose(J, g.at(name + "_jacobian"), 1e-4, 1e-5))
      << name << ": largest difference " << (J - g.at(name + "_jacobian")).abs().max();
}

}  // namespace

TEST(TorchScriptModels, OutputsGradientsAndJacobiansEqualPyTorch) {
  const auto vae = decoders::open_model(torchscript("vae_decoder.pt", "vae_encoder.pt"));
  EXPECT_EQ(vae.latent_dim(), 2) << "found by probing: the module does not say";
  EXPECT_EQ(vae.pixels(), 784);
  EXPECT_EQ(vae.image_height, 28);
  EXPECT_EQ(vae.record["kind"], "torchscript");
  EXPECT_EQ(vae.record["decoder"]["sha256"].get<std::string>().size(), 64u);
  expect_goldens(*vae.decoder, "vae_decoder");
  // The encoder's (B, 2L) output, split as the thesis's.
  ASSERT_TRUE(vae.has_encoder());
  auto e = vae.encoder->encode(goldens().at("vae_encoder_images"));
  const auto& out = goldens().at("vae_encoder_output");
  EXPECT_TRUE(torch::allclose(e.mean, out.slice(1, 0, 2), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(e.logvar, out.slice(1, 2), 1e-5, 1e-5));

  const auto conv = decoders::open_model(torchscript("conv_decoder.pt"));
  EXPECT_EQ(conv.image_channels, 1);
  EXPECT_EQ(conv.image_height, 28);
  EXPECT_EQ(conv.image_width, 28);
  expect_goldens(*conv.decoder, "conv_decoder");
  EXPECT_FALSE(conv.has_encoder());

  const auto l8 = decoders::open_model(torchscript("dense_l8_decoder.pt"));
  EXPECT_EQ(l8.latent_dim(), 8);
  expect_goldens(*l8.decoder, "dense_l8_decoder");
}

TEST(TorchScriptModels, ADecoderOfProbabilitiesIsReadThroughTheLogit) {
  auto source = torchscript("probabilities_decoder.pt");
  source.output = decoders::DecoderOutput::kProbabilities;
  const auto model = decoders::open_model(source);
  const auto& g = goldens();
  auto logits = model.decoder->forward(g.at("vae_decoder_y"));
  // Equal to the logits where the sigmoid is not saturated (float32 resolves p near 0 or 1 to
  // about 1e-7).
  auto expected = g.at("vae_decoder_logits");
  auto unsaturated = expected.abs() < 8;
  EXPECT_TRUE(torch::allclose(logits.masked_select(unsaturated), expected.masked_select(unsaturated),
                              1e-3, 1e-3));
}

TEST(TorchScriptModels, TheConvolutionalDecodersKnownOptimumIsRecovered) {
  const auto model = decoders::open_model(torchscript("conv_decoder.pt"));
  auto y_star = torch::tensor({{0.5f, -0.8f}, {-1.2f, 0.3f}, {0.1f, 1.4f}});
  auto z = model.decode_images(y_star);  // the loss is 0 at y*, its global minimum
  solvers::InvertRequest request;
  request.method = "grid";  // global: from the prior's mean, then Gauss-Newton on the module
  request.settings = solvers::settings_for("grid");
  request.settings.stop.relative_tolerance = 1e-9;
  request.show_progress = false;
  auto s = solvers::invert(*model.decoder, z, torch::zeros({3, 2}), request);
  EXPECT_LT(s.final_loss.max().item<double>(), 1e-6) << s.final_loss;
  EXPECT_LT((s.latents - y_star).abs().max().item<double>(), 1e-2) << s.latents;
}

TEST(WeightFiles, EveryFormatOfTheSameWeightsDecodesAlike) {
  const auto reference = decoders::open_model(torchscript("vae_decoder.pt", "vae_encoder.pt"));
  const auto y = goldens().at("vae_decoder_y");
  const auto images = goldens().at("vae_encoder_images");
  for (const auto& [file, layout] :
       std::vector<std::pair<std::string, std::string>>{{"vae_pytorch.npz", "pytorch (out, in)"},
                                                        {"vae_keras.npz", "keras (in, out)"},
                                                        {"vae_keras2.h5", "keras (in, out)"},
                                                        {"vae_keras3.weights.h5", "keras (in, out)"}}) {
    const auto model = decoders::open_model(weights(file));
    EXPECT_EQ(model.record["layout"], layout) << file;
    EXPECT_EQ(model.latent_dim(), 2) << file;
    EXPECT_EQ(model.record["description"], "dense ReLU 2-[4x12]-784") << file;
    EXPECT_TRUE(torch::allclose(model.decoder->forward(y), reference.decoder->forward(y), 1e-5,
                                1e-5))
        << file;
    ASSERT_TRUE(model.has_encoder()) << file;
    auto e = model.encoder->encode(images), r = reference.encoder->encode(images);
    EXPECT_TRUE(torch::allclose(e.mean, r.mean, 1e-5, 1e-5)) << file;
    EXPECT_TRUE(torch::allclose(e.logvar, r.logvar, 1e-5, 1e-5)) << file;
  }
}

TEST(BadModels, EachIsAClearErrorNamingTheFile) {
  const auto text = test_support::fresh_dir("bad_models") / "notes.txt";
  std::ofstream(text) << "not a model\n";
  auto copy = [&](const std::string& extension) {
    auto p = text.parent_path() / ("notes" + extension);
    std::filesystem::copy_file(text, p);
    return p;
  };
  auto expect = [](const decoders::ModelSource& source, std::vector<std::string> parts) {
    const auto message = user_error_of([&] { decoders::open_model(source); });
    ASSERT_FALSE(message.empty()) << "no UserError";
    for (const auto& part : parts) EXPECT_TRUE(contains(message, part)) << message;
  };
  decoders::ModelSource s;
  s.decoder = copy(".pt");
  expect(s, {"notes.pt", "not a TorchScript module"});
  s = {};
  s.weights = copy(".npz");
  expect(s, {"notes.npz", "not an .npz archive"});
  s = {};
  s.weights = copy(".h5");
  expect(s, {"notes.h5", "not an HDF5 file"});
  s = {};
  s.weights = text;
  expect(s, {"notes.txt", "not a weights file"});
  expect(torchscript("broken/nan_decoder.pt"), {"nan_decoder.pt", "NaN"});
  expect(torchscript("broken/scalar_decoder.pt"), {"scalar_decoder.pt", "expected"});
  expect(torchscript("broken/raising_decoder.pt"), {"raising_decoder.pt", "accepts no latents"});
  expect(torchscript("vae_decoder.pt", "broken/l3_encoder.pt"), {"l3_encoder.pt", "(2, 2)"});
  expect(weights("broken/missing_bias.weights.h5"), {"missing_bias.weights.h5", "no bias"});
  expect(weights("broken/unchained.h5"), {"unchained.h5", "takes 5 inputs"});
  expect(weights("broken/square.npz"), {"square.npz", "--weights-layout"});
  // Files that once made the readers allocate gigabytes or read another file, refused by what
  // they claim against what the file holds (scripts/make_model_fixtures.py, write_broken).
  expect(weights("broken/claims_2gb.npz"),
         {"claims_2gb.npz", "claims 2147483648 compressed bytes", "more than the file's 272"});
  expect(weights("broken/unwritten.h5"),
         {"unwritten.h5", "'decoder/dense/kernel'", "declares 1073741824 bytes", "stores 0"});
  expect(weights("broken/external.h5"), {"external.h5", "external file"});
  // A TorchScript file from a newer PyTorch: both versions, and the ways out.
  expect(torchscript("future_version.pt"),
         {"future_version.pt", "format version 99", TORCH_VERSION, "your own LibTorch", ".npz"});
  // Two models at once, an encoder without its decoder, a device that is not there.
  s = torchscript("vae_decoder.pt");
  s.weights = kModels / "vae_pytorch.npz";
  expect(s, {"give one model"});
  s = weights("vae_pytorch.npz");
  s.encoder = kModels / "vae_encoder.pt";
  expect(s, {"--encoder goes with --decoder"});
  if (!torch::cuda::is_available()) {
    s = weights("vae_pytorch.npz");
    s.device = "cuda";
    expect(s, {"CUDA is not available"});
  }
}

// A mangled HDF5 file (found by fuzz_h5) on which the HDF5 library itself walks for ever, a group
// that holds itself: the reader's child process is stopped at its time limit and the file named,
// and the same reader still reads a good file afterwards.
TEST(BadModels, AnHdf5FileThatHangsTheLibraryIsStoppedAndNamed) {
  data::set_hdf5_time_limit(2);
  const auto start = std::chrono::steady_clock::now();
  const auto message = user_error_of([] {
    data::read_hdf5_datasets(kModels / "broken/group_holds_itself.h5");
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  data::set_hdf5_time_limit(0);
  EXPECT_TRUE(contains(message, "group_holds_itself.h5") && contains(message, "cannot be read as HDF5"))
      << message;
  EXPECT_LT(seconds, 30) << "the child's time limit did not hold";
  EXPECT_EQ(data::read_hdf5_datasets(kModels / "vae_keras2.h5").size(), 22u);
}

// A mangled TorchScript archive whose CRCs hold (found by fuzz_torchscript): formatting LibTorch's
// error reads its debug records, which claim 4 GB, and then throws from inside what(), which
// ends the process (std::terminate; under the sanitizers it first fills the 4 GB). The trial
// load in a child process dies instead, and the file is refused before this process loads it.
TEST(BadModels, ATorchScriptFileThatExhaustsLibTorchIsRefusedBeforeItIsLoaded) {
  decoders::ModelSource s;
  s.decoder = kModels / "broken/debug_records_claim_4gb.pt";
  s.latent_dim = 2;
  const auto message = user_error_of([&] { decoders::open_model(s); });
  EXPECT_TRUE(contains(message, "debug_records_claim_4gb.pt") && contains(message, "cannot be loaded") &&
              contains(message, "LibTorch's reader"))
      << message;
}

// One command opens a model once: a second open_model of the same unchanged files returns the
// decoder the first made (probed and hashed once); a file changed since is opened anew.
TEST(ModelSources, AModelIsOpenedOncePerProcessWhileItsFilesAreUnchanged) {
  const auto dir = test_support::fresh_dir("model_memo");
  std::filesystem::copy_file(kModels / "vae_pytorch.npz", dir / "vae.npz");
  decoders::ModelSource s;
  s.weights = dir / "vae.npz";
  const auto first = decoders::open_model(s);
  const auto again = decoders::open_model(s);
  EXPECT_EQ(first.decoder.get(), again.decoder.get());
  EXPECT_EQ(first.record, again.record);
  s.device = "cpu";
  s.image_shape = {28, 28};  // other settings: another model
  EXPECT_NE(decoders::open_model(s).decoder.get(), first.decoder.get());
  s.image_shape = {};
  std::filesystem::last_write_time(dir / "vae.npz", std::filesystem::last_write_time(dir / "vae.npz") +
                                                        std::chrono::seconds(5));
  const auto changed = decoders::open_model(s);
  EXPECT_NE(changed.decoder.get(), first.decoder.get()) << "a changed file must be opened anew";
  EXPECT_EQ(changed.record, first.record);  // the same bytes: the same record and checksum
}
