// The files of one step land together or not at all (StagedFiles, its journal), temporaries of
// killed processes are removed, and a full disk is a clean error that leaves no temporary.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "folder_snapshot.h"
#include "test_helpers.h"
#include "util/atomic_file.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/npy.h"

namespace fs = std::filesystem;
using namespace preimage;
using test_support::contains;

namespace {

// The id of a process that has ended (a child that exited at once and was reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

// While alive, files of this process cannot grow past `bytes`: writes fail as on a full disk
// (EFBIG, with SIGXFSZ ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

}  // namespace

TEST(StagedFiles, NothingLandsBeforeCommitAndEverythingAfter) {
  const auto dir = test_support::fresh_dir("staged");
  util::write_file_atomic(dir / "a", "old a");
  util::StagedFiles staged;
  {
    util::StagingScope scope(staged);
    util::write_file_atomic(dir / "a", "new a");
    util::write_file_atomic(dir / "sub" / "b", "new b");
    util::write_file_atomic(dir / "a", "newer a");  // staged again: one entry, at the end
    const util::ImmediateWrites now;  // a record that must land now (an inversion's chunk)
    util::write_file_atomic(dir / "chunk", "landed");
  }
  EXPECT_EQ(util::read_file(dir / "chunk"), "landed");
  EXPECT_TRUE(staged.staged(dir / "chunk").empty());
  EXPECT_EQ(util::read_file(dir / "a"), "old a");
  EXPECT_FALSE(fs::exists(dir / "sub" / "b"));
  EXPECT_EQ(util::read_file(staged.staged(dir / "a")), "newer a");  // a step reads its writes
  util::write_file_atomic(dir / "c", "at once");  // no scope: renamed at once
  EXPECT_EQ(util::read_file(dir / "c"), "at once");
  staged.commit(dir / ".commit");
  EXPECT_EQ(util::read_file(dir / "a"), "newer a");
  EXPECT_EQ(util::read_file(dir / "sub" / "b"), "new b");
  EXPECT_FALSE(fs::exists(dir / ".commit")) << "the journal goes once the renames are done";
  EXPECT_TRUE(staged.empty());
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_FALSE(test_support::is_temporary(e.path().string())) << e.path();
}

TEST(StagedFiles, AFolderInTheWayFailsBeforeAnyRenameAndChangesNothing) {
  const auto dir = test_support::fresh_dir("staged_blocked");
  util::write_file_atomic(dir / "latents.npy", "old latents");
  fs::create_directories(dir / "results.csv");  // cannot be replaced by a file
  const auto before = test_support::snapshot(dir);
  util::StagedFiles staged;
  {
    util::StagingScope scope(staged);
    util::write_file_atomic(dir / "latents.npy", "new latents");
    util::write_file_atomic(dir / "results.csv", "new results");
    util::write_file_atomic(dir / "manifest.json", "{}");
  }
  const auto error = test_support::user_error_of([&] { staged.commit(dir / ".commit"); });
  EXPECT_TRUE(contains(error, (dir / "results.csv").string()) && contains(error, "folder"))
      << error;
  EXPECT_TRUE(test_support::differences(before, test_support::snapshot(dir)).empty())
      << "a failed commit left the folder changed";
  EXPECT_TRUE(staged.empty());
}

TEST(StagedFiles, AnAbandonedStepRemovesItsTemporaries) {
  const auto dir = test_support::fresh_dir("staged_abandoned");
  util::write_file_atomic(dir / "a", "old");
  {
    util::StagedFiles staged;
    util::StagingScope scope(staged);
    util::write_file_atomic(dir / "a", "new");
    util::write_file_atomic(dir / "b", "new");
  }  // destroyed without commit, as when an exception unwinds
  EXPECT_EQ(util::read_file(dir / "a"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

TEST(StagedFiles, TheJournalFinishesACommitAKillInterrupted) {
  const auto dir = test_support::fresh_dir("journal");
  const auto pid = std::to_string(dead_pid());
  util::write_file_atomic(dir / "latents.npy", "old latents");
  util::write_file_atomic(dir / "manifest.json", "old manifest");
  // Killed after the journal and the first rename: latents.npy is new, the manifest's temporary
  // still waits.
  util::write_file_atomic(dir / "latents.npy", "new latents");
  util::write_file_atomic(dir / ("manifest.json.tmp-" + pid), "new manifest");
  util::write_file_atomic(dir / ".commit",
                          "[[\"latents.npy.tmp-" + pid + "\",\"latents.npy\"],"
                          "[\"manifest.json.tmp-" + pid + "\",\"manifest.json\"]]\n");
  EXPECT_EQ(util::recover_commit(dir / ".commit"), 1);
  EXPECT_EQ(util::read_file(dir / "latents.npy"), "new latents");
  EXPECT_EQ(util::read_file(dir / "manifest.json"), "new manifest");
  EXPECT_FALSE(fs::exists(dir / ".commit"));
  EXPECT_EQ(util::recover_commit(dir / ".commit"), 0) << "no journal: nothing to do";
}

TEST(StaleTemporaries, OnlyThoseOfProcessesThatAreGoneAreRemoved) {
  const auto dir = test_support::fresh_dir("stale");
  const auto dead = std::to_string(dead_pid());
  const std::string self = std::to_string(::getpid());
  for (const auto& name : {"latents/MT.npy.tmp-" + dead, "thesis/m/deltas.txt.tmp-" + dead,
                           ".write-test-" + dead, "model.pt.tmp-" + dead})
    util::write_file_atomic(dir / name, std::string(1000, 'x'));
  for (const std::string& name : {"results.csv.tmp-" + self, std::string("report.md.tmp-1"),
                                  std::string("notes.tmp-abc"), std::string("kept.txt"),
                                  "deep/a/b/d.tmp-" + dead})
    util::write_file_atomic(dir / name, "keep");
  const auto removed = util::remove_stale_temporaries(dir, 2);
  EXPECT_EQ(removed.files, 4);
  EXPECT_EQ(removed.bytes, 4000u);
  EXPECT_FALSE(fs::exists(dir / ("latents/MT.npy.tmp-" + dead)));
  EXPECT_FALSE(fs::exists(dir / ("model.pt.tmp-" + dead)));
  EXPECT_TRUE(fs::exists(dir / ("results.csv.tmp-" + self))) << "this process's own";
  EXPECT_TRUE(fs::exists(dir / "report.md.tmp-1")) << "process 1 is alive";
  EXPECT_TRUE(fs::exists(dir / "notes.tmp-abc"));
  EXPECT_TRUE(fs::exists(dir / ("deep/a/b/d.tmp-" + dead))) << "deeper than asked";
  EXPECT_EQ(util::temporary_owner("x.npy.tmp-42"), 42);
  EXPECT_EQ(util::temporary_owner("x.npy"), -1);
}

// A file written again outside any run folder (a classifier beside the runs): its killed
// writer's temporary goes, other files' and live processes' stay.
TEST(StaleTemporaries, WritingAFileAgainRemovesItsKilledWritersTemporary) {
  const auto dir = test_support::fresh_dir("stale_of");
  const auto dead = std::to_string(dead_pid());
  util::write_file_atomic(dir / ("classifier.pt.tmp-" + dead), std::string(1000, 'x'));
  util::write_file_atomic(dir / ("other.pt.tmp-" + dead), "another file's");
  util::write_file_atomic(dir / "classifier.pt.tmp-1", "process 1 is alive");
  util::write_file_atomic(dir / "classifier.pt", "new");
  EXPECT_FALSE(fs::exists(dir / ("classifier.pt.tmp-" + dead)));
  EXPECT_TRUE(fs::exists(dir / ("other.pt.tmp-" + dead)));
  EXPECT_TRUE(fs::exists(dir / "classifier.pt.tmp-1"));
  EXPECT_EQ(util::read_file(dir / "classifier.pt"), "new");
}

TEST(DiskFull, EveryWriterFailsCleanlyAndLeavesNoTemporary) {
  const auto dir = test_support::fresh_dir("disk_full");
  const std::string big(256 * 1024, 'x');
  const std::vector<float> values(64 * 1024, 1.0f);
  util::CsvTable table{{"a", "b"}, {}};
  for (int i = 0; i < 20000; ++i) table.rows.push_back({std::to_string(i), "0.123456789"});
  FileSizeLimit limit(64 * 1024);
  const std::vector<std::pair<std::string, std::function<void()>>> writers = {
      {"file.json", [&] { util::write_file_atomic(dir / "file.json", big); }},
      {"array.npy",
       [&] { util::write_npy(dir / "array.npy", util::NpyType::kFloat32, {64 * 1024}, values.data()); }},
      {"table.csv", [&] { util::write_csv(dir / "table.csv", table); }},
  };
  for (const auto& [name, write] : writers) {
    const auto error = test_support::user_error_of(write);
    EXPECT_TRUE(contains(error, (dir / name).string())) << name << ": " << error;
    EXPECT_FALSE(fs::exists(dir / name)) << name;
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "a temporary was left behind";
}
