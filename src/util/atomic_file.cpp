#include "util/atomic_file.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace preimage::util {
namespace {

// The StagedFiles that this thread's atomic writes go to, or null: they are renamed at once.
thread_local StagedFiles* active_staging = nullptr;

constexpr std::string_view kTempMark = ".tmp-";
constexpr std::string_view kProbeMark = ".write-test-";

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A path written into a journal: relative to the journal's folder when below it, so that a run
// folder moved after a kill still recovers.
std::string journal_entry(const fs::path& p, const fs::path& base) {
  const auto rel = p.lexically_relative(base);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return p.string();
}

// True when no process `pid` runs (kill(pid, 0) fails with ESRCH only then; EPERM: alive).
bool owner_is_gone(int64_t pid) {
  return pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

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
  remove_stale_temporaries_of(path_);  // of a killed writer of the same file
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
  out_.close();  // the last buffered bytes reach the disk here: a full disk can fail it
  require(static_cast<bool>(out_), fmt::format("error while writing '{}'", path_.string()),
          "is the disk full?");
  committed_ = true;  // the temporary is commit_temp_file's now (renamed, staged or removed)
  commit_temp_file(temp_, path_);
}

void commit_temp_file(const fs::path& temp, const fs::path& path) {
  if (active_staging != nullptr) {
    active_staging->add(temp, path);
    return;
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
    throw UserError(
        fmt::format("cannot move '{}' into place as '{}': {}", temp.string(), path.string(), why),
        fs::is_directory(path) ? "a folder stands where the file belongs: move it away"
                               : "check the folder's permissions and free space");
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

// ---- staged files ----

StagedFiles::~StagedFiles() { discard(); }

void StagedFiles::add(const fs::path& temp, const fs::path& path) {
  files_.erase(std::remove_if(files_.begin(), files_.end(),
                              [&](const auto& f) { return f.second == path; }),
               files_.end());
  files_.emplace_back(temp, path);
}

fs::path StagedFiles::staged(const fs::path& path) const {
  for (const auto& [temp, target] : files_)
    if (target == path) return temp;
  return {};
}

void StagedFiles::discard() {
  std::error_code ec;
  for (const auto& f : files_) fs::remove(f.first, ec);
  files_.clear();
}

void StagedFiles::commit(const fs::path& journal) {
  if (files_.empty()) return;
  StagedFiles* const outer = active_staging;
  active_staging = nullptr;  // the journal itself is written at once
  try {
    // Every check before the first rename: a failure leaves the old files as they were.
    for (const auto& [temp, target] : files_) {
      require(fs::is_regular_file(temp),
              fmt::format("cannot write '{}': its temporary '{}' has gone", target.string(),
                          temp.string()),
              "another process removed it; run the command again");
      require(!fs::is_directory(target),
              fmt::format("cannot write '{}': a folder stands where the file belongs",
                          target.string()),
              "move the folder away and run the command again; nothing was changed");
    }
    if (!journal.empty()) {
      nlohmann::json entries = nlohmann::json::array();
      const fs::path base = journal.parent_path();
      for (const auto& [temp, target] : files_)
        entries.push_back({journal_entry(temp, base), journal_entry(target, base)});
      write_file_atomic(journal, entries.dump() + "\n");
    }
  } catch (...) {
    active_staging = outer;
    discard();
    throw;
  }
  active_staging = outer;
  // From here on the step is committed: the journal finishes the renames if this process dies.
  for (const auto& [temp, target] : files_) {
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) {
      const std::string why = ec.message();
      files_.clear();  // the journal keeps the rest for the next start
      throw UserError(fmt::format("cannot move '{}' into place as '{}': {}", temp.string(),
                                  target.string(), why),
                      journal.empty() ? "check the folder's permissions and free space"
                                      : fmt::format("the next command on the folder finishes "
                                                    "the step from '{}'", journal.string()));
    }
  }
  files_.clear();
  if (!journal.empty()) {
    std::error_code ec;
    fs::remove(journal, ec);
  }
}

StagingScope::StagingScope(StagedFiles& files) : previous_(active_staging) {
  active_staging = &files;
}

StagingScope::~StagingScope() { active_staging = previous_; }

ImmediateWrites::ImmediateWrites() : previous_(active_staging) { active_staging = nullptr; }

ImmediateWrites::~ImmediateWrites() { active_staging = previous_; }

int64_t recover_commit(const fs::path& journal) {
  if (!fs::exists(journal)) return 0;
  const auto entries = nlohmann::json::parse(read_file(journal), nullptr, false);
  int64_t renamed = 0;
  const fs::path base = journal.parent_path();
  if (entries.is_array()) {
    for (const auto& e : entries) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string()) continue;
      const fs::path temp = base / e[0].get<std::string>();
      const fs::path target = base / e[1].get<std::string>();
      std::error_code ec;
      if (!fs::is_regular_file(temp)) continue;  // renamed before the kill
      fs::rename(temp, target, ec);
      require(!ec,
              fmt::format("cannot finish the interrupted commit of '{}': moving '{}' to '{}' "
                          "failed: {}", journal.string(), temp.string(), target.string(),
                          ec.message()),
              "check the folder's permissions; the journal is kept for the next try");
      ++renamed;
    }
  }
  // A journal that does not parse was cut by the kill before its rename: then nothing was renamed.
  std::error_code ec;
  fs::remove(journal, ec);
  return renamed;
}

int64_t temporary_owner(const std::string& name) {
  for (const auto mark : {kTempMark, kProbeMark}) {
    const auto at = name.rfind(mark);
    if (at == std::string::npos) continue;
    const std::string_view digits = std::string_view(name).substr(at + mark.size());
    if (all_digits(digits) && digits.size() <= 18) return std::stoll(std::string(digits));
  }
  return -1;
}

RemovedTemporaries remove_stale_temporaries(const fs::path& dir, int depth) {
  RemovedTemporaries removed;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && it.depth() >= depth) it.disable_recursion_pending();
    if (!it->is_regular_file(ec)) continue;
    if (!owner_is_gone(temporary_owner(it->path().filename().string()))) continue;
    std::error_code size_error;
    const auto size = it->file_size(size_error);
    if (fs::remove(it->path(), ec)) {
      ++removed.files;
      removed.bytes += size_error ? 0 : size;
    }
    ec.clear();
  }
  return removed;
}

int64_t remove_stale_temporaries_of(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = path.filename().string() + std::string(kTempMark);
  int64_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !all_digits(std::string_view(name).substr(prefix.size())))
      continue;
    std::error_code remove_error;
    if (owner_is_gone(temporary_owner(name)) && fs::remove(it->path(), remove_error)) ++removed;
  }
  return removed;
}

}  // namespace preimage::util
