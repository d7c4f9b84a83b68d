// The run folder's promises: one writer at a time (a second process is refused at once, naming
// the folder and the holder), a step's files land together or not at all, and the next writer
// finishes a commit a kill interrupted and removes the temporaries of processes that are gone.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "folder_snapshot.h"
#include "run/run_folder.h"
#include "test_helpers.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;

namespace {

// Runs `f` in a child process and returns what it wrote to the pipe (its report).
template <typename F>
std::string in_child(F f) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string report = f();
    (void)!::write(fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return out;
}

// The UserError opening `dir` for `access` gives ("opened" when it opens).
std::string try_open(const fs::path& dir, run::Access access) {
  const auto error = test_support::user_error_of([&] { run::RunFolder::open(dir, access); });
  return error.empty() ? "opened" : error;
}

// A run of 4 images with the solution of `method` committed.
solvers::Solution tiny_solution(float value) {
  solvers::Solution s;
  s.latents = torch::full({4, 2}, value);
  s.initial_loss = torch::full({4}, 2.0f);
  s.final_loss = torch::full({4}, value);
  s.iterations = torch::full({4}, 7, torch::kInt64);
  s.stop_reason = torch::zeros({4}, torch::kInt64);
  s.left_box = torch::zeros({4}, torch::kBool);
  return s;
}

void write_tiny_images(run::RunFolder& run) {
  data::Dataset ds;
  ds.name = "tiny";
  ds.images = torch::zeros({4, 784});
  ds.labels = torch::arange(4, torch::kInt64);
  ds.indices = torch::arange(4, torch::kInt64);
  run.write_images(data::DataSpec{}, ds, {0, 4});
}

run::MethodRecord method_record(const std::string& name) {
  run::MethodRecord r;
  r.method = name;
  r.settings = {{"loss", "squared-error"}};
  return r;
}

}  // namespace

TEST(RunLock, ASecondProcessIsRefusedAtOnceNamingTheFolderAndTheHolder) {
  const auto dir = test_support::fresh_dir("lock") / "run";
  auto run = run::RunFolder::create(dir);
  run.save_manifest();
  const std::string holder = "process " + std::to_string(::getpid()) + " is writing it";
  for (const auto access : {run::Access::kWrite, run::Access::kRead}) {
    const auto report = in_child([&] { return try_open(dir, access); });
    EXPECT_TRUE(contains(report, dir.string()) && contains(report, holder) &&
                contains(report, "HINT"))
        << report;
  }
  // Within one process a folder has one lock: a second RunFolder of it shares it.
  EXPECT_EQ(try_open(dir, run::Access::kWrite), "opened");
}

TEST(RunLock, ReadersShareAWriterWaitsForNone) {
  const auto dir = test_support::fresh_dir("lock_read") / "run";
  run::RunFolder::create(dir).save_manifest();
  {
    auto reader = run::RunFolder::open(dir, run::Access::kRead);
    EXPECT_EQ(in_child([&] { return try_open(dir, run::Access::kRead); }), "opened");
    const auto report = in_child([&] { return try_open(dir, run::Access::kWrite); });
    EXPECT_TRUE(contains(report, "process " + std::to_string(::getpid()) + " is reading it"))
        << report;
    // Alone, a reader that writes after all upgrades its lock.
    reader.set_run_config({{"upgraded", true}});
    reader.save_manifest();
  }
  EXPECT_TRUE(contains(util::read_file(dir / "manifest.json"), "upgraded"));
  EXPECT_EQ(in_child([&] { return try_open(dir, run::Access::kWrite); }), "opened");
}

TEST(RunLock, AKilledHolderLeavesNoLock) {
  const auto dir = test_support::fresh_dir("lock_killed") / "run";
  run::RunFolder::create(dir).save_manifest();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    auto held = run::RunFolder::open(dir);
    (void)!::write(ready[1], "x", 1);
    ::pause();  // until killed
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const auto refused = try_open(dir, run::Access::kWrite);
  EXPECT_TRUE(contains(refused, "process " + std::to_string(child) + " is writing it"))
      << refused;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(try_open(dir, run::Access::kWrite), "opened");
}

TEST(RunFolderStep, AStepThatCannotCommitChangesNothing) {
  const auto dir = test_support::fresh_dir("step") / "run";
  auto run = run::RunFolder::create(dir);
  write_tiny_images(run);
  run.write_solution(method_record("first"), tiny_solution(1.0f));
  run.write_results_csv();
  EXPECT_FALSE(fs::exists(dir / "latents" / "first.npy")) << "staged until the manifest";
  EXPECT_EQ(run.read_latents("first").size(0), 4) << "a step reads what it staged";
  run.save_manifest();
  EXPECT_TRUE(fs::exists(dir / "latents" / "first.npy"));
  EXPECT_TRUE(fs::exists(dir / "thesis" / "first" / "solutions.txt"));

  // The second method's step: results.csv cannot be replaced (a folder stands there).
  fs::remove(dir / "results.csv");
  fs::create_directories(dir / "results.csv");
  const auto before = test_support::snapshot(dir);
  run.write_solution(method_record("second"), tiny_solution(0.5f));
  run.write_results_csv();
  const auto error = test_support::user_error_of([&] { run.save_manifest(); });
  EXPECT_TRUE(contains(error, (dir / "results.csv").string())) << error;
  const auto diff = test_support::differences(before, test_support::snapshot(dir));
  EXPECT_TRUE(diff.empty()) << "changed: " << diff.front();
  EXPECT_EQ(run.methods(), std::vector<std::string>{"first"}) << "the manifest in memory too";
  EXPECT_FALSE(run.has_latents("second"));
}

TEST(RunFolderStep, TheNextWriterFinishesAnInterruptedCommitAndCleansUp) {
  const auto dir = test_support::fresh_dir("recover") / "run";
  {
    auto run = run::RunFolder::create(dir);
    run.set_run_config({{"step", 1}});
    run.save_manifest();
  }
  // A writer killed in its commit: the journal written, the manifest's temporary not yet moved;
  // and big temporaries of a killed writer elsewhere.
  const pid_t dead = [] {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }();
  const std::string tmp = ".tmp-" + std::to_string(dead);
  util::write_file_atomic(dir / ("manifest.json" + tmp), "{\"run_config\": {\"step\": 2}}\n");
  util::write_file_atomic(dir / ".commit", "[[\"manifest.json" + tmp + "\",\"manifest.json\"]]");
  util::write_file_atomic(dir / "latents" / ("MT.npy" + tmp), std::string(100000, 'x'));
  util::write_file_atomic(dir / ("model.pt" + tmp), std::string(100000, 'x'));
  {
    // A reader leaves the folder as it is.
    auto reader = run::RunFolder::open(dir, run::Access::kRead);
    EXPECT_TRUE(fs::exists(dir / ".commit"));
  }
  auto run = run::RunFolder::open(dir);
  EXPECT_EQ(run.manifest()["run_config"]["step"], 2) << "the commit was finished before reading";
  EXPECT_FALSE(fs::exists(dir / ".commit"));
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_FALSE(test_support::is_temporary(e.path().string())) << e.path();
}
