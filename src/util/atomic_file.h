#pragma once
// Atomic writes: every output goes to `<path>.tmp-<pid>` first and is renamed over `path` only when
// complete, so a crash or a full disk never leaves a half-written file behind. The files of one
// step can also be staged and renamed together (StagedFiles), with a journal that lets the next
// process finish renames a kill interrupted.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preimage::util {

namespace fs = std::filesystem;

// Creates `dir` (and parents) and checks that a file can be written there; throws UserError
// naming the folder otherwise. Call before any long work that ends in writing there.
void ensure_writable_dir(const fs::path& dir);

// A file being written: stream into `stream()`, then `commit()` renames it into place (or, while
// a StagingScope is active on this thread, hands the finished temporary to its StagedFiles).
// Destroyed without commit (an exception), it removes the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(fs::path path, std::ios::openmode mode = std::ios::binary);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  const fs::path& temp_path() const { return temp_; }
  void commit();  // flushes, checks for write errors, renames; throws UserError on failure

 private:
  fs::path path_;
  fs::path temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Writes `bytes` to `path` atomically (creating parent folders).
void write_file_atomic(const fs::path& path, std::string_view bytes);

// Renames an already-written temporary file into place (or stages it, as AtomicFile::commit);
// helper for writers that use their own streams (e.g. gnuplot's output). Throws UserError on
// failure, after removing the temporary.
void commit_temp_file(const fs::path& temp, const fs::path& path);

// A temporary path beside `path`, unique to this process.
fs::path temp_path_for(const fs::path& path);

// Reads a whole file; throws UserError naming it if it cannot be read.
std::string read_file(const fs::path& path);

// The finished temporaries of one step, renamed into place together by commit() in the order
// they were added (a path added again moves to the end: the manifest, saved last, lands last).
// Discarded, or destroyed before commit, it removes them and leaves the old files as they were.
class StagedFiles {
 public:
  StagedFiles() = default;
  ~StagedFiles();
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  void add(const fs::path& temp, const fs::path& path);
  // The temporary holding `path`'s new bytes, or an empty path when `path` is not staged (so a
  // step reads what it wrote before committing).
  fs::path staged(const fs::path& path) const;
  bool empty() const { return files_.empty(); }

  // Checks every rename can happen (the temporary is there, no folder stands at the target),
  // then writes `journal` (unless empty) listing the renames, renames each file, and removes the
  // journal. A failed check throws UserError naming the file before anything is renamed, and
  // discards the temporaries.
  void commit(const fs::path& journal = {});
  void discard();  // removes the temporaries

 private:
  std::vector<std::pair<fs::path, fs::path>> files_;  // (temporary, target), in commit order
};

// While alive, this thread's atomic writes (AtomicFile, write_file_atomic, commit_temp_file) are
// added to `files` instead of renamed. Scopes nest; other threads are not affected.
class StagingScope {
 public:
  explicit StagingScope(StagedFiles& files);
  ~StagingScope();
  StagingScope(const StagingScope&) = delete;
  StagingScope& operator=(const StagingScope&) = delete;

 private:
  StagedFiles* previous_;
};

// While alive, this thread's atomic writes are renamed at once even inside a StagingScope: for
// records that must land now whatever step is under way (an inversion's solved chunks).
class ImmediateWrites {
 public:
  ImmediateWrites();
  ~ImmediateWrites();
  ImmediateWrites(const ImmediateWrites&) = delete;
  ImmediateWrites& operator=(const ImmediateWrites&) = delete;

 private:
  StagedFiles* previous_;
};

// Finishes a commit that a kill interrupted: renames the temporaries `journal` lists that are
// still there, then removes it. Returns the number of files it renamed (0 without a journal).
int64_t recover_commit(const fs::path& journal);

// Temporaries of processes that are gone: `*.tmp-<pid>` and `.write-test-<pid>` in `dir` and its
// subfolders at most `depth` levels down (0: `dir`'s own files only) whose process no longer
// runs. Returns what it removed.
struct RemovedTemporaries {
  int64_t files = 0;
  std::uintmax_t bytes = 0;
};
RemovedTemporaries remove_stale_temporaries(const fs::path& dir, int depth);

// The temporaries `<path>.tmp-<pid>` of processes that are gone (a killed writer of `path`);
// returns how many it removed. Every AtomicFile calls it for its own path, so that a file written
// outside a run folder (a classifier beside the runs, a completion's --out) leaves no temporary
// of a killed writer behind once it is written again.
int64_t remove_stale_temporaries_of(const fs::path& path);

// The process id a temporary's name ends with (`x.tmp-123`, `.write-test-123`), or -1.
int64_t temporary_owner(const std::string& file_name);

}  // namespace preimage::util
