#include "util/atomic_file.h"

#include <unistd.h>

#include <fmt/format.h>

#include "util/error.h"

namespace preimage::util {

fs::path temp_path_for(const fs::path& path) {
  return fs::path(path.string() + fmt::format(".tmp-{}", ::getpid()));
}

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  require(!ec && fs::is_directory(dir),
          fmt::format("cannot create output folder '{}': {}", dir.string(), ec.message()),
          "choose a folder you can write to (--out)");
  const fs::path probe = dir / fmt::format(".write-test-{}", ::getpid());
  {
    std::ofstream out(probe);
    require(static_cast<bool>(out << "ok"),
            fmt::format("output folder '{}' is not writable", dir.string()),
            "check its permissions or choose another folder (--out)");
  }
  fs::remove(probe, ec);
}

AtomicFile::AtomicFile(fs::path path, std::ios::openmode mode)
    : path_(std::move(path)), temp_(temp_path_for(path_)) {
  if (path_.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
  }
  out_.open(temp_, mode | std::ios::out | std::ios::trunc);
  require(out_.is_open(), fmt::format("cannot write '{}'", path_.string()),
          "check that its folder exists and is writable");
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  require(static_cast<bool>(out_), fmt::format("error while writing '{}'", path_.string()),
          "is the disk full?");
  out_.close();
  commit_temp_file(temp_, path_);
  committed_ = true;
}

void commit_temp_file(const fs::path& temp, const fs::path& path) {
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw UserError(fmt::format("cannot move '{}' into place as '{}'", temp.string(), path.string()));
  }
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.is_open(), fmt::format("cannot open '{}'", path.string()),
          fs::exists(path) ? "check its permissions" : "the file does not exist");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace preimage::util
