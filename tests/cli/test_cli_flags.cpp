// Flags and settings out of range fail before any long work, with a message naming the flag and
// the range, for every command that takes them (issue: hostile input).
#include <filesystem>

#include <gtest/gtest.h>

#include "test_helpers.h"
#include "cli_runner.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;
using test_support::run_cli;

namespace {
std::string data_dir() { return std::string(" --data-dir ") + PREIMAGE_DATA_DIR; }

// Fails cleanly (exit 1, a UserError), before training, naming `must_contain`; writes no model.
void expect_refused(const std::string& args, const std::string& must_contain) {
  const auto out = test_support::fresh_dir("cli_flags");
  const auto r = run_cli(args + " --out " + out.string() + data_dir());
  EXPECT_EQ(r.status, 1) << args << "\n" << r.output;
  EXPECT_TRUE(contains(r.output, must_contain)) << args << ": expected '" << must_contain
                                                << "' in\n" << r.output;
  EXPECT_FALSE(contains(r.output, "epoch:") || contains(r.output, "epoch 1")) << args << ": it started training\n" << r.output;
  EXPECT_FALSE(fs::exists(out / "model.pt")) << args;
}
}  // namespace

TEST(CliFlags, ArchitectureSizesOutOfBounds) {
  for (const char* command : {"train", "run"}) {
    const std::string c = command;
    expect_refused(c + " --decoder-depth -1", "--decoder-depth");
    expect_refused(c + " --encoder-depth -1", "--encoder-depth");
    expect_refused(c + " --hidden-width 1000000", "--hidden-width");
    expect_refused(c + " --latent-dim 0", "--latent-dim");
  }
}

TEST(CliFlags, EveryMethodIsCheckedAgainstTheModelBeforeTraining) {
  expect_refused("run --method grid --latent-dim 5", "at most 3");
  expect_refused("run --methods adafactor,grid --latent-dim 4", "at most 3");
  expect_refused("run --start grid --method lbfgs --latent-dim 4", "--start grid");
}

TEST(CliFlags, NumbersOutOfRange) {
  expect_refused("run --prior-weight -1", "--prior-weight");
  expect_refused("run --prior-weight nan", "--prior-weight");
  expect_refused("run --learning-rate nan", "--learning-rate");
  expect_refused("run --box -1", "--box");
  expect_refused("run --method lbfgs --history -1", "--history");
  expect_refused("run --method grid --grid-radius -1", "--grid-radius");
  expect_refused("run --steps -5", "--steps");
  expect_refused("run --workers 100000", "--workers");
  expect_refused("run --workers -1", "--workers");
  expect_refused("run --chunk -1", "--chunk");
  expect_refused("run --epochs 0", "--epochs");
  expect_refused("run --lr inf", "--lr");
}

// The training schedule's flags and presets, for both commands that train.
TEST(CliFlags, TrainingScheduleOutOfRange) {
  for (const char* command : {"train", "run"}) {
    const std::string c = command;
    expect_refused(c + " --lr-patience -1", "--lr-patience must be 0");
    expect_refused(c + " --stop-patience -2", "--stop-patience must be 0");
    expect_refused(c + " --stop-patience 1000000", "--stop-patience");
    // Not a number of the flag's type, or not a preset: the flag parser's error (exit 104/105).
    for (const auto& [args, must_contain] :
         {std::pair<std::string, std::string>{c + " --lr-patience 1.5", "--lr-patience"},
          {c + " --preset slow", "fast,converged,thesis"}}) {
      const auto r = run_cli(args + " --out " + test_support::fresh_dir("cli_flags").string());
      EXPECT_NE(r.status, 0) << args << "\n" << r.output;
      EXPECT_TRUE(contains(r.output, must_contain)) << args << "\n" << r.output;
      EXPECT_FALSE(contains(r.output, "epoch:")) << args << "\n" << r.output;
    }
  }
}

// Memory refused by the system: a clear message with the size asked and what asks for less, not
// the allocator's words. (AddressSanitizer reserves more address space than the limit allows.)
TEST(CliFlags, OutOfMemoryIsAClearError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "an address-space limit does not apply under AddressSanitizer";
#else
  const auto out = test_support::fresh_dir("cli_oom");
  const auto r = run_cli("train --hidden-width 12000 --decoder-depth 2 --encoder-depth 2 "
                         "--train-images 200 --eval-images none --epochs 1 --quiet --out " +
                             out.string() + data_dir(),
                         "ulimit -v 3000000; ");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "error: out of memory (one allocation of")) << r.output;
  EXPECT_TRUE(contains(r.output, "--batch-size")) << r.output;
  EXPECT_FALSE(contains(r.output, "LibTorch")) << r.output;
  EXPECT_FALSE(fs::exists(out / "model.pt"));
#endif
}
