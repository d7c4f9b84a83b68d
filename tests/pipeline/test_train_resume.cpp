// `preimage train` killed (SIGKILL) once its state file records epoch 2, then started again with
// the same flags: it continues after the last epoch recorded and ends with the model of a
// training that was never interrupted (the parameters bit for bit, the log without timings), and
// removes the state file. A corrupt state file is a warning naming it, then a training from the
// start; a state made for other settings is ignored the same way.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "cli_runner.h"
#include "model/checkpoint.h"
#include "test_helpers.h"
#include "train/train_state.h"
#include "util/atomic_file.h"
#include "util/csv.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::ChildProcess;
using test_support::contains;
using test_support::run_cli;

namespace {

// Four epochs of a narrow VAE on real MNIST images, the schedule on (fast preset, patience 1 so
// that the step size changes), the held-out figure on 200 test images (exact, L = 2).
std::string train_args(const fs::path& out, const std::string& extra = "") {
  return "train --out " + out.string() + " --data-dir " + PREIMAGE_DATA_DIR +
         " --train-images 4000 --eval-images 200 --epochs 4 --hidden-width 32 --batch-size 64"
         " --lr-patience 1" + extra + " --quiet";
}

// Epochs recorded by the state file in `run` (0: none, or unreadable while being renamed).
size_t state_epochs(const fs::path& run) {
  try {
    return train::read_train_state(run / "train_state.bin").logs.size();
  } catch (const std::exception&) {
    return 0;
  }
}

void expect_same_model(const fs::path& reference, const fs::path& run) {
  const auto va = model::load_vae(reference / "model.pt"), vb = model::load_vae(run / "model.pt");
  const auto pa = va->named_parameters(), pb = vb->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  const auto la = util::read_csv(reference / "train_log.csv");
  const auto lb = util::read_csv(run / "train_log.csv");
  ASSERT_EQ(la.columns, lb.columns);
  ASSERT_EQ(la.rows.size(), lb.rows.size());
  for (size_t i = 0; i < la.rows.size(); ++i)
    for (const char* c : {"epoch", "train_elbo", "test_elbo", "held_out", "learning_rate"})
      EXPECT_EQ(la.rows[i][la.column(c)], lb.rows[i][lb.column(c)]) << c << " row " << i;
  const auto ma = model::read_checkpoint_record(reference / "model.pt")["meta"];
  const auto mb = model::read_checkpoint_record(run / "model.pt")["meta"];
  EXPECT_EQ(ma["selection"], mb["selection"]);
  EXPECT_FALSE(fs::exists(run / "train_state.bin")) << "the state file outlived the training";
}

}  // namespace

TEST(TrainResume, KilledAfterEpochTwoEndsWithTheUninterruptedModel) {
  const auto dir = test_support::fresh_dir("train_resume_kill");
  const auto reference = run_cli(train_args(dir / "reference"));
  ASSERT_EQ(reference.status, 0) << reference.output;
  EXPECT_FALSE(fs::exists(dir / "reference" / "train_state.bin"));
  const auto manifest = nlohmann::json::parse(util::read_file(dir / "reference" / "manifest.json"));
  const auto& selection = manifest["model"]["selection"];
  EXPECT_EQ(selection["held_out"], "log_px_quadrature_201") << manifest["model"].dump();
  EXPECT_TRUE(selection["best_epoch"].is_number_integer()) << selection.dump();
  EXPECT_EQ(selection["kept_epoch"], selection["best_epoch"]);

  const auto run = dir / "killed";
  size_t killed_at = 0;
  {
    ChildProcess child(train_args(run), dir / "killed.log");
    ASSERT_TRUE(test_support::wait_until(child, [&] { return state_epochs(run) >= 2; }))
        << "no state of epoch 2 appeared";
    child.kill();
    killed_at = state_epochs(run);
  }
  ASSERT_GE(killed_at, 2u);
  ASSERT_LT(killed_at, 4u) << "the training ended before the kill: nothing to resume";
  EXPECT_FALSE(fs::exists(run / "model.pt"));

  const auto resumed = run_cli(train_args(run).substr(0, train_args(run).find(" --quiet")));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "resuming training after epoch " +
                                           std::to_string(killed_at)))
      << resumed.output;
  expect_same_model(dir / "reference", run);
}

TEST(TrainResume, CorruptOrForeignStateIsAWarningAndAFreshStart) {
  const auto dir = test_support::fresh_dir("train_resume_corrupt");
  const auto reference = run_cli(train_args(dir / "reference"));
  ASSERT_EQ(reference.status, 0) << reference.output;
  // A state file of another training (another seed) and a corrupt one (bytes changed).
  const auto donor = dir / "donor";
  {
    ChildProcess child(train_args(donor, " --seed 7"), dir / "donor.log");
    ASSERT_TRUE(test_support::wait_until(child, [&] { return state_epochs(donor) >= 1; }));
    child.kill();
  }
  const std::string state = util::read_file(donor / "train_state.bin");
  std::string corrupt = state;
  corrupt[corrupt.size() / 2] ^= 0x01;
  for (const auto& [name, bytes] : {std::pair<std::string, std::string>{"foreign", state},
                                    {"corrupt", corrupt},
                                    {"truncated", state.substr(0, state.size() / 3)}}) {
    SCOPED_TRACE(name);
    const auto run = dir / name;
    fs::create_directories(run);
    std::ofstream(run / "train_state.bin", std::ios::binary) << bytes;
    const auto r = run_cli(train_args(run).substr(0, train_args(run).find(" --quiet")));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "ignoring the training state '" +
                                       (run / "train_state.bin").string()))
        << r.output;
    EXPECT_FALSE(contains(r.output, "resuming")) << r.output;
    expect_same_model(dir / "reference", run);
  }
}
