#include "run/folder_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::run {
namespace fs = std::filesystem;
namespace {

// One lock per folder per process: a POSIX lock is the process's, and closing any descriptor of
// the file would drop it, so every RunFolder of a folder shares one descriptor.
std::recursive_mutex& registry_mutex() {
  static std::recursive_mutex m;
  return m;
}
std::map<fs::path, std::weak_ptr<FolderLock>>& registry() {
  static std::map<fs::path, std::weak_ptr<FolderLock>> r;
  static pid_t owner = ::getpid();
  if (owner != ::getpid()) {  // a forked child inherits the map, not the locks
    r.clear();
    owner = ::getpid();
  }
  return r;
}

bool set_lock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;  // the whole file
  return ::fcntl(fd, F_SETLK, &fl) == 0;
}

// The refusal: which process holds the folder, doing what.
[[noreturn]] void refuse(const fs::path& folder, int fd, Access wanted) {
  const int error = errno;
  if (error != EACCES && error != EAGAIN)
    throw UserError(fmt::format("cannot lock run folder '{}' ({}): {}", folder.string(),
                                (folder / FolderLock::kFileName).string(), std::strerror(error)),
                    "the folder's file system must support POSIX locks (fcntl)");
  struct flock fl {};
  fl.l_type = wanted == Access::kWrite ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  std::string holder = "another process";
  std::string doing = "using";
  if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
    if (fl.l_pid > 0) holder = fmt::format("process {}", fl.l_pid);
    doing = fl.l_type == F_WRLCK ? "writing" : "reading";
  }
  throw UserError(
      fmt::format("run folder '{}' is in use: {} is {} it (lock {})", folder.string(), holder,
                  doing, (folder / FolderLock::kFileName).string()),
      fl.l_pid > 0
          ? fmt::format("wait until that command ends (or stop it: kill {}), or use another run "
                        "folder; the lock goes with its process, so that process is alive",
                        fl.l_pid)
          : "wait until that command ends, or use another run folder");
}

}  // namespace

std::shared_ptr<FolderLock> FolderLock::acquire(const fs::path& folder, Access access) {
  std::error_code ec;
  fs::path key = fs::weakly_canonical(fs::absolute(folder), ec);
  if (ec) key = fs::absolute(folder).lexically_normal();
  std::lock_guard<std::recursive_mutex> guard(registry_mutex());
  auto& slot = registry()[key];
  if (auto held = slot.lock()) {
    if (access == Access::kWrite) held->upgrade();
    return held;
  }
  const fs::path file = folder / kFileName;
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && access == Access::kRead && (errno == EACCES || errno == EROFS)) {
    // A read-only folder: read it unlocked if there is no lock file to take (no one can write it
    // through this user either).
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0 && access == Access::kWrite)
    throw UserError(fmt::format("cannot lock run folder '{}': cannot open '{}': {}",
                                folder.string(), file.string(), std::strerror(errno)),
                    "commands that write a run need write permission on its folder");
  if (fd >= 0 && !set_lock(fd, access == Access::kWrite ? F_WRLCK : F_RDLCK)) {
    try {
      refuse(folder, fd, access);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  std::shared_ptr<FolderLock> lock(new FolderLock(folder, key, fd, access));
  lock->first_write_pending_ = access == Access::kWrite;
  slot = lock;
  return lock;
}

FolderLock::~FolderLock() {
  std::lock_guard<std::recursive_mutex> guard(registry_mutex());
  if (fd_ >= 0) ::close(fd_);  // releases the process's locks on the file
  auto it = registry().find(key_);
  if (it == registry().end()) return;
  if (auto successor = it->second.lock()) {
    // Another thread locked the folder again meanwhile: closing dropped its lock too; renew it.
    if (successor->fd_ >= 0)
      set_lock(successor->fd_, successor->access_ == Access::kWrite ? F_WRLCK : F_RDLCK);
  } else {
    registry().erase(it);
  }
}

void FolderLock::upgrade() {
  if (access_ == Access::kWrite) return;
  require(fd_ >= 0,
          fmt::format("cannot write run folder '{}': it is read-only here", folder_.string()),
          "commands that write a run need write permission on its folder");
  if (!set_lock(fd_, F_WRLCK)) {
    if (errno == EBADF)  // opened read-only
      throw UserError(
          fmt::format("cannot write run folder '{}': its lock file is read-only here",
                      folder_.string()),
          "commands that write a run need write permission on its folder");
    refuse(folder_, fd_, Access::kWrite);
  }
  access_ = Access::kWrite;
  first_write_pending_ = true;
}

bool FolderLock::take_first_write() {
  const bool first = first_write_pending_;
  first_write_pending_ = false;
  return first;
}

}  // namespace preimage::run
