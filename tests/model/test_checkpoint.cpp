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
