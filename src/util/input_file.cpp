#include "util/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::util {

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;  // unknown: the allocation decides
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

std::string read_input_file(const std::filesystem::path& path, const std::string& what,
                            const std::string& hint) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a pipe without a writer must not hang; it is refused below anyway.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    require(err != ENOENT, fmt::format("{} '{}' does not exist", what, name),
            hint.empty() ? "check the path" : hint);
    throw UserError(fmt::format("cannot open {} '{}': {}", what, name, std::strerror(err)),
                    err == EACCES ? "check its permissions" : hint);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  require(::fstat(fd, &info) == 0,
          fmt::format("cannot read {} '{}': {}", what, name, std::strerror(errno)), hint);
  require(!S_ISDIR(info.st_mode), fmt::format("{} '{}' is a folder, not a file", what, name),
          hint.empty() ? "give the path of the file itself" : hint);
  require(S_ISREG(info.st_mode),
          fmt::format("{} '{}' is not a regular file (a device, pipe or socket)", what, name),
          "copy the data into a file and give its path");
  const auto size = static_cast<uint64_t>(info.st_size);
  const uint64_t memory = physical_memory_bytes();
  require(size <= memory,
          fmt::format("{} '{}' holds {} bytes, more than this machine's memory ({} bytes)", what,
                      name, size, memory),
          "use a smaller file, or a range of it in a file of its own");

  std::string bytes(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    require(n >= 0, fmt::format("cannot read {} '{}': {}", what, name, std::strerror(errno)), hint);
    require(n > 0,
            fmt::format("{} '{}' ended after {} of its {} bytes (it changed while being read)",
                        what, name, done, size),
            "read it again once nothing writes it");
    done += static_cast<size_t>(n);
  }
  return bytes;
}

}  // namespace preimage::util
