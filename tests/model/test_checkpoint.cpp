// Checkpoints: round trip, and refusal of a different architecture or a corrupt file.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "model/checkpoint.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace preimage;
using test_support::contains;

namespace {
model::VaeConfig small(int64_t latent = 2) {
  model::VaeConfig c;
  c.latent_dim = latent;
  c.hidden_width = 32;
  c.encoder_depth = 2;
  c.decoder_depth = 2;
  return c;
}
}  // namespace

TEST(Checkpoint, RoundTripKeepsEveryParameter) {
  const auto dir = test_support::fresh_dir("ckpt");
  torch::manual_seed(1);
  model::Vae vae(small());
  model::save_checkpoint(*vae, vae->config().to_json(), {{"note", "test"}}, dir / "m.pt");
  auto back = model::load_vae(dir / "m.pt");
  EXPECT_EQ(back->config(), vae->config());
  auto a = vae->parameters(), b = back->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].equal(b[i])) << "parameter " << i;
  EXPECT_EQ(model::read_checkpoint_record(dir / "m.pt")["meta"]["note"], "test");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "no temp file left";
}

TEST(Checkpoint, MismatchedArchitectureIsRefused) {
  const auto dir = test_support::fresh_dir("ckpt_mismatch");
  model::Vae vae(small(2));
  model::save_checkpoint(*vae, vae->config().to_json(), {}, dir / "m.pt");
  const auto expected = small(3);
  try {
    model::load_vae(dir / "m.pt", &expected);
    FAIL() << "a checkpoint of another architecture was loaded";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "m.pt")) << e.what();
    EXPECT_TRUE(contains(e.what(), "-3")) << e.what();  // the expected latent dimension
  }
  model::Vae other(small(3));
  EXPECT_THROW(model::load_checkpoint(*other, other->config().to_json(), dir / "m.pt"), UserError);
}

TEST(Checkpoint, MissingCorruptAndForeignFiles) {
  const auto dir = test_support::fresh_dir("ckpt_bad");
  try {
    model::load_vae(dir / "absent.pt");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "does not exist")) << e.what();
  }
  util::write_file_atomic(dir / "garbage.pt", "this is not a zip archive");
  EXPECT_THROW(model::load_vae(dir / "garbage.pt"), UserError);
  // A valid LibTorch archive without our record.
  torch::save(torch::ones({2}), (dir / "tensor.pt").string());
  try {
    model::load_vae(dir / "tensor.pt");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "not a preimage checkpoint")) << e.what();
  }
  // A truncated checkpoint.
  model::Vae vae(small());
  model::save_checkpoint(*vae, vae->config().to_json(), {}, dir / "m.pt");
  std::string bytes = util::read_file(dir / "m.pt");
  util::write_file_atomic(dir / "cut.pt", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(model::load_vae(dir / "cut.pt"), UserError);
}

namespace {
// A checkpoint written by hand: `record` over `vae`'s parameters, as an edited file would be.
void write_archive(const std::filesystem::path& path, const nlohmann::json& record,
                   torch::nn::Module& module) {
  torch::serialize::OutputArchive archive, params;
  module.save(params);
  archive.write("preimage_record", c10::IValue(record.dump()));
  archive.write("module", params);
  archive.save_to(path.string());
}
}  // namespace

TEST(Checkpoint, ARecordThatDisagreesWithTheWeightsIsRefused) {
  const auto dir = test_support::fresh_dir("ckpt_edited");
  model::Vae vae(small(2));
  auto record = nlohmann::json{{"architecture", small(3).to_json()}, {"meta", nlohmann::json::object()}};
  write_archive(dir / "edited.pt", record, *vae);
  const auto message = test_support::user_error_of([&] { model::load_vae(dir / "edited.pt"); });
  EXPECT_TRUE(contains(message, "edited.pt")) << message;
  EXPECT_TRUE(contains(message, "has shape")) << message;
}

TEST(Checkpoint, AFlippedByteIsCaughtByTheZipsCrcBeforeLibTorchReadsIt) {
  const auto dir = test_support::fresh_dir("ckpt_flipped");
  torch::manual_seed(3);
  model::Vae vae(small(2));
  model::save_checkpoint(*vae, vae->config().to_json(), {}, dir / "m.pt");
  // Find the bytes of one weight in the (uncompressed) archive and flip a bit of its mantissa.
  std::string bytes = util::read_file(dir / "m.pt");
  const auto weight = vae->parameters().front().contiguous();
  const std::string needle(static_cast<const char*>(weight.data_ptr()), 64);
  const auto at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos) << "the weights are not stored as plain bytes";
  bytes[at + 8] = static_cast<char>(bytes[at + 8] ^ 0x01);
  util::write_file_atomic(dir / "m.pt", bytes);
  const auto message = test_support::user_error_of([&] { model::load_vae(dir / "m.pt"); });
  EXPECT_TRUE(contains(message, "m.pt")) << message;
  EXPECT_TRUE(contains(message, "is corrupt")) << message;
  EXPECT_TRUE(contains(message, "CRC")) << message;
}

// Weights changed and the archive rewritten whole (its CRCs right): the parameters' SHA-256 in
// the record no longer matches.
TEST(Checkpoint, WeightsChangedUnderTheirRecordAreCaughtByTheChecksum) {
  const auto dir = test_support::fresh_dir("ckpt_rewritten");
  torch::manual_seed(3);
  model::Vae vae(small(2));
  model::save_checkpoint(*vae, vae->config().to_json(), {}, dir / "m.pt");
  const auto record = model::read_checkpoint_record(dir / "m.pt");
  ASSERT_TRUE(record.contains("parameters_sha256"));
  {
    torch::NoGradGuard no_grad;
    vae->parameters().front()[0][0].add_(1e-3);
  }
  write_archive(dir / "m.pt", record, *vae);
  const auto message = test_support::user_error_of([&] { model::load_vae(dir / "m.pt"); });
  EXPECT_TRUE(contains(message, "m.pt")) << message;
  EXPECT_TRUE(contains(message, "checksum")) << message;
}

TEST(Checkpoint, SizesOutOfBoundsAreRefusedBeforeAllocating) {
  const auto dir = test_support::fresh_dir("ckpt_sizes");
  model::Vae vae(small(2));
  for (auto [key, value] : std::vector<std::pair<std::string, int64_t>>{
           {"decoder_depth", -1}, {"encoder_depth", -5}, {"hidden_width", 1000000},
           {"latent_dim", 0}}) {
    auto arch = small(2).to_json();
    arch[key] = value;
    write_archive(dir / "m.pt", {{"architecture", arch}, {"meta", nlohmann::json::object()}}, *vae);
    const auto message = test_support::user_error_of([&] { model::load_vae(dir / "m.pt"); });
    EXPECT_TRUE(contains(message, "m.pt")) << key << ": " << message;
    EXPECT_TRUE(contains(message, key)) << message;
  }
  // Each size in bounds, but together too many parameters.
  auto wide = small(2);
  wide.hidden_width = 16384;
  wide.encoder_depth = wide.decoder_depth = 64;
  const auto message = test_support::user_error_of([&] { wide.check_sizes("the flags"); });
  EXPECT_TRUE(contains(message, "parameters")) << message;
  // A record whose fields are of the wrong type.
  auto arch = small(2).to_json();
  arch["latent_dim"] = "two";
  write_archive(dir / "m.pt", {{"architecture", arch}, {"meta", nlohmann::json::object()}}, *vae);
  EXPECT_TRUE(contains(test_support::user_error_of([&] { model::load_vae(dir / "m.pt"); }),
                       "latent_dim"));
  write_archive(dir / "m.pt", {{"architecture", 7}}, *vae);
  EXPECT_TRUE(contains(test_support::user_error_of([&] { model::load_vae(dir / "m.pt"); }),
                       "corrupt record"));
}
