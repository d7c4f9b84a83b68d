#pragma once
// The lock of a run folder: RUN/.lock, a POSIX record lock (fcntl), so the kernel releases it when
// its process ends however it ends (kill -9 included) and names the process that holds it. A
// command that writes a run holds it exclusively; a command that only reads one (the parent of
// `invert --shard`, the parts of `merge`) holds it shared. A second writer, or a
// reader while a writer works, is refused at once, naming the folder and the holder's PID.
#include <filesystem>
#include <memory>

namespace preimage::run {

enum class Access { kRead, kWrite };

class FolderLock {
 public:
  // Locks `folder` (which must exist) for `access`, or throws UserError naming it and the
  // process holding it. Within one process a folder has one lock, shared by every RunFolder of
  // it; asking to write upgrades a read lock in place.
  static std::shared_ptr<FolderLock> acquire(const std::filesystem::path& folder, Access access);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  Access access() const { return access_; }
  // Upgrades a read lock to a write lock (no-op for a write lock); throws as acquire.
  void upgrade();
  // True once, for the holder that first took the write lock (the process's first writer
  // cleans up after a killed one).
  bool take_first_write();

  static constexpr const char* kFileName = ".lock";

 private:
  FolderLock(std::filesystem::path folder, std::filesystem::path key, int fd, Access access)
      : folder_(std::move(folder)), key_(std::move(key)), fd_(fd), access_(access) {}
  std::filesystem::path folder_;
  std::filesystem::path key_;  // the registry's key: the folder's canonical path
  int fd_ = -1;                // -1: a read-only folder a reader could not lock
  Access access_;
  bool first_write_pending_ = false;
};

}  // namespace preimage::run
