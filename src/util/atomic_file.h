#pragma once
// Atomic writes: every output goes to `<path>.tmp-<pid>` first and is renamed over `path` only when
// complete, so a crash or a full disk never leaves a half-written file behind.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace preimage::util {

namespace fs = std::filesystem;

// Creates `dir` (and parents) and checks that a file can be written there; throws UserError
// naming the folder otherwise. Call before any long work that ends in writing there.
void ensure_writable_dir(const fs::path& dir);

// A file being written: stream into `stream()`, then `commit()` renames it into place.
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

// Renames an already-written temporary file into place; helper for writers that use their own
// streams (e.g. LibTorch serialization). Throws UserError on failure.
void commit_temp_file(const fs::path& temp, const fs::path& path);

// A temporary path beside `path`, unique to this process.
fs::path temp_path_for(const fs::path& path);

// Reads a whole file; throws UserError naming it if it cannot be read.
std::string read_file(const fs::path& path);

}  // namespace preimage::util
