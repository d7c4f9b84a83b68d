// What no interruption and no second process may break, through the `preimage` executable on
// copies of the shared inverted run: the run folder's lock, a step that cannot commit, the
// temporaries of killed processes, a full disk while saving a checkpoint, and a killed inversion
// resumed to the same bytes.
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "child_process.h"
#include "cli_runner.h"
#include "fixture_runs.h"
#include "folder_snapshot.h"
#include "run/run_folder.h"
#include "util/atomic_file.h"
#include "util/csv.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::ChildProcess;
using test_support::contains;
using test_support::expect_failure;
using test_support::run_cli;

namespace {

nlohmann::json manifest_of(const fs::path& run) {
  return nlohmann::json::parse(util::read_file(run / "manifest.json"));
}

// The files a step writes, without what a failed step may leave on purpose: the chunks solved so
// far (partial/, to resume from) and the lock file.
bool step_output(const std::string& path) {
  return path.rfind("partial/", 0) != 0 && path != ".lock" && !test_support::is_temporary(path);
}

}  // namespace

TEST(RunLock, ASecondWriterIsRefusedAtOnceAndAShardOnlyReads) {
  const auto run = test_support::copy_fixture(test_support::fixture_inverted(), "lock_cli");
  const auto dir = run.parent_path();
  const std::string pid = std::to_string(::getpid());
  {
    auto held = run::RunFolder::open(run);  // this process writes it
    const auto r = run_cli("invert " + run.string() + " --method lbfgs --quiet");
    expect_failure(r, "run folder '" + run.string() + "' is in use: process " + pid +
                          " is writing it");
    EXPECT_TRUE(contains(r.output, "HINT")) << r.output;
    expect_failure(run_cli("invert " + run.string() + " --method lbfgs --quiet --shard 0/2 --out " +
                           (dir / "part0").string()),
                   "is writing it");
  }
  {
    auto held = run::RunFolder::open(run, run::Access::kRead);  // this process reads it
    const auto shard = run_cli("invert " + run.string() +
                               " --method gauss-newton --quiet --shard 0/2 --out " +
                               (dir / "part0").string());
    EXPECT_EQ(shard.status, 0) << "a shard only reads the whole run\n" << shard.output;
    expect_failure(run_cli("analyze " + run.string() + " --no-bonus --no-train-classifier --quiet"),
                   "process " + pid + " is reading it");
  }
  EXPECT_FALSE(fs::exists(run / "latents" / "lbfgs.npy"));
}

// The case: two inversions started together on one run. One may be refused; whatever
// ends well is recorded, and the folder stays whole (no method's arrays without its record).
TEST(RunLock, TwoInversionsAtOnceNeverLoseAMethod) {
  const auto run = test_support::copy_fixture(test_support::fixture_inverted(), "lock_two");
  const auto dir = run.parent_path();
  ChildProcess a("invert " + run.string() + " --method lbfgs --quiet", dir / "a.log");
  ChildProcess b("invert " + run.string() + " --method adafactor --quiet", dir / "b.log");
  const int status_a = a.wait(), status_b = b.wait();
  const auto log_a = util::read_file(a.log()), log_b = util::read_file(b.log());
  EXPECT_TRUE(status_a == 0 || contains(log_a, "is in use")) << log_a;
  EXPECT_TRUE(status_b == 0 || contains(log_b, "is in use")) << log_b;
  EXPECT_TRUE(status_a == 0 || status_b == 0);
  const auto methods = manifest_of(run)["method_order"].get<std::vector<std::string>>();
  const auto header = util::read_csv(run / "results.csv").columns;
  for (const auto& [method, status] : {std::pair{"lbfgs", status_a}, {"adafactor", status_b}}) {
    const bool recorded = std::find(methods.begin(), methods.end(), method) != methods.end();
    EXPECT_EQ(recorded, status == 0) << method;
    EXPECT_EQ(fs::exists(run / "latents" / (std::string(method) + ".npy")), recorded) << method;
    EXPECT_EQ(std::find(header.begin(), header.end(), std::string(method) + "_final_loss") !=
                  header.end(),
              recorded)
        << method;
  }
}

// results.csv cannot be written (the disk is full for files past 12 KiB: sh's `ulimit -f` counts
// 512-byte blocks; every other file of the step is smaller, results.csv with a second method is
// about 18 KB): the latents and losses already written wait as temporaries and are dropped; the
// folder is as it was, byte for byte.
TEST(StepCommit, AStepThatCannotWriteResultsChangesNothing) {
  const auto run = test_support::copy_fixture(test_support::fixture_inverted(), "step_commit");
  const auto before = test_support::snapshot(run, step_output);
  ASSERT_GT(fs::file_size(run / "results.csv") * 3 / 2, 12 * 1024u)
      << "with a second method results.csv (about twice its size now) must pass the limit";
  ChildProcess full("invert " + run.string() + " --method lbfgs --quiet",
                    run.parent_path() / "full.log", "trap '' XFSZ; ulimit -f 24;");
  EXPECT_EQ(full.wait(), 1);
  const auto log = util::read_file(full.log());
  EXPECT_TRUE(contains(log, "error: error while writing '" + (run / "results.csv").string()))
      << log;
  const auto diff = test_support::differences(before, test_support::snapshot(run, step_output));
  EXPECT_TRUE(diff.empty()) << "changed: " << diff.front();
  for (const auto& e : fs::recursive_directory_iterator(run))
    EXPECT_FALSE(test_support::is_temporary(e.path().string())) << e.path();

  // A folder where results.csv belongs: refused before any file is replaced.
  fs::remove(run / "results.csv");
  fs::create_directories(run / "results.csv");
  const auto blocked = test_support::snapshot(run, step_output);
  expect_failure(run_cli("invert " + run.string() + " --method lbfgs --quiet"),
                 "a folder stands where the file belongs");
  EXPECT_TRUE(test_support::differences(blocked, test_support::snapshot(run, step_output)).empty());
}

TEST(StaleTemporaries, TheNextWriterRemovesThoseOfKilledProcesses) {
  const auto run = test_support::copy_fixture(test_support::fixture_inverted(), "stale_cli");
  ChildProcess gone("--version", run.parent_path() / "gone.log");
  const std::string dead = std::to_string(gone.pid());
  gone.wait();
  const std::string alive = std::to_string(::getpid());
  for (const std::string name : {"latents/gauss-newton.npy.tmp-" + dead, "model.pt.tmp-" + dead,
                                 "thesis/gauss-newton/solutions.txt.tmp-" + dead})
    util::write_file_atomic(run / name, std::string(1 << 20, 'x'));
  util::write_file_atomic(run / ("results.csv.tmp-" + alive), "a live process's");
  const auto r = run_cli("invert " + run.string() + " --method gauss-newton");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "removed 3 temporary files (3145728 bytes)")) << r.output;
  EXPECT_FALSE(fs::exists(run / ("model.pt.tmp-" + dead)));
  EXPECT_TRUE(fs::exists(run / ("results.csv.tmp-" + alive)));
}

// LibTorch's file writer threw from its destructor on a full disk (std::terminate) and left
// model.pt.tmp-PID: now the checkpoint is a file like any other, and the error names it.
TEST(DiskFull, SavingACheckpointIsACleanError) {
  const auto dir = test_support::fresh_dir("disk_full_cli");
  const std::string data = std::string(" --data-dir ") + PREIMAGE_DATA_DIR;
  const std::vector<std::pair<std::string, fs::path>> commands = {
      {"train --out " + (dir / "run").string() + data +
           " --train-images 256 --eval-images none --epochs 1 --hidden-width 64 --quiet",
       dir / "run" / "model.pt"},
      {"train-classifier --out " + (dir / "classifier.pt").string() + data +
           " --train-images 256 --test-images 64 --epochs 1 --quiet",
       dir / "classifier.pt"}};
  for (const auto& [args, file] : commands) {
    ChildProcess full(args, dir / "full.log", "trap '' XFSZ; ulimit -f 32;");
    EXPECT_EQ(full.wait(), 1) << args;
    const auto log = util::read_file(dir / "full.log");
    EXPECT_TRUE(contains(log, "error: error while writing '" + file.string() + "'")) << log;
    EXPECT_FALSE(contains(log, "terminate")) << log;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      EXPECT_FALSE(test_support::is_temporary(e.path().string())) << e.path();
  }
  // A real full disk: a 64 KiB tmpfs (only where this process may mount one).
  const auto tiny = dir / "tiny";
  fs::create_directories(tiny);
  if (::mount("tmpfs", tiny.c_str(), "tmpfs", 0, "size=64k") != 0) {
    std::printf("[   NOTE   ] the tmpfs case is skipped: mounting is not permitted here\n");
    return;
  }
  const auto r = run_cli("train --out " + (tiny / "run").string() +
                         data + " --train-images 256 --eval-images none --epochs 1 "
                         "--hidden-width 64 --quiet");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "error: error while writing '" + (tiny / "run" / "model.pt").string()))
      << r.output;
  for (const auto& e : fs::recursive_directory_iterator(tiny))
    EXPECT_FALSE(test_support::is_temporary(e.path().string())) << e.path();
  ::umount(tiny.c_str());
}

// An inversion killed after some chunks resumes from them and ends with the bytes of an
// uninterrupted one; the chunks' records go when the step commits.
TEST(Resume, AKilledInversionResumesToTheSameBytes) {
  const auto whole = test_support::copy_fixture(test_support::fixture_inverted(), "resume_ref");
  const auto killed = test_support::copy_fixture(test_support::fixture_inverted(), "resume_kill");
  const std::string flags = " --method adafactor --steps 600 --chunk 6 --curves 0 --curves 50";
  const auto partial = killed / "partial" / "adafactor";
  auto chunks_done = [&] {
    int64_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(partial, ec))
      if (e.path().extension() == ".json" && e.path().filename() != "record.json") ++n;
    return n;
  };
  {
    ChildProcess first("invert " + killed.string() + flags, killed.parent_path() / "first.log");
    ASSERT_TRUE(test_support::wait_until(first, [&] { return chunks_done() >= 3; }))
        << util::read_file(first.log());
    first.kill();
  }
  const int64_t done = chunks_done();
  ASSERT_LT(done, 20) << "the inversion ended before the kill: make it longer";
  EXPECT_FALSE(manifest_of(killed)["methods"].contains("adafactor"));

  const auto resumed = run_cli("invert " + killed.string() + flags);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const auto said = resumed.output.find("resuming: ");
  ASSERT_NE(said, std::string::npos) << resumed.output;
  std::printf("[  RESUME  ] killed after %lld chunks were recorded; %s\n",
              static_cast<long long>(done),
              resumed.output.substr(said, resumed.output.find('\n', said) - said).c_str());
  EXPECT_FALSE(fs::exists(killed / "partial")) << "the records go with the commit";
  ASSERT_EQ(run_cli("invert " + whole.string() + flags + " --quiet").status, 0);
  auto outputs = [](const std::string& p) {
    return p.rfind("latents/", 0) == 0 || p.rfind("losses/", 0) == 0 ||
           p.rfind("curves/", 0) == 0 || p.rfind("thesis/", 0) == 0 || p == "results.csv";
  };
  const auto a = test_support::snapshot(whole, outputs), b = test_support::snapshot(killed, outputs);
  ASSERT_TRUE(a.count("latents/adafactor.npy") && a.count("curves/adafactor.npy"));
  const auto diff = test_support::differences(a, b);
  EXPECT_TRUE(diff.empty()) << "differs: " << diff.front();

  // Other settings start over instead of mixing: the records of --steps 600 are not used.
  {
    ChildProcess again("invert " + killed.string() + flags, killed.parent_path() / "again.log");
    ASSERT_TRUE(test_support::wait_until(again, [&] { return chunks_done() >= 1; }));
    again.kill();
  }
  const auto other = run_cli("invert " + killed.string() +
                             " --method adafactor --steps 20 --chunk 6");
  ASSERT_EQ(other.status, 0) << other.output;
  EXPECT_FALSE(contains(other.output, "resuming")) << other.output;
  EXPECT_TRUE(contains(other.output, "the inversion starts over")) << other.output;
}
