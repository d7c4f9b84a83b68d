#pragma once
// Every regular file of a folder with its bytes, to check that a failed step changed nothing and
// that an interrupted run ends with an uninterrupted run's bytes.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "util/atomic_file.h"

namespace preimage::test_support {

using FolderSnapshot = std::map<std::string, std::string>;  // relative path -> bytes

// The files of `dir` whose relative path `keep` accepts (all by default).
inline FolderSnapshot snapshot(
    const std::filesystem::path& dir,
    const std::function<bool(const std::string&)>& keep = [](const std::string&) { return true; }) {
  FolderSnapshot s;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(dir).string();
    if (keep(rel)) s[rel] = util::read_file(e.path());
  }
  return s;
}

// The paths that differ between two snapshots (missing on one side, or other bytes).
inline std::vector<std::string> differences(const FolderSnapshot& a, const FolderSnapshot& b) {
  std::vector<std::string> out;
  for (const auto& [path, bytes] : a) {
    const auto it = b.find(path);
    if (it == b.end()) out.push_back(path + " (only in the first)");
    else if (it->second != bytes) out.push_back(path + " (other bytes)");
  }
  for (const auto& [path, bytes] : b)
    if (a.find(path) == a.end()) out.push_back(path + " (only in the second)");
  return out;
}

// A temporary of an atomic write (`x.tmp-<pid>`, `.write-test-<pid>`).
inline bool is_temporary(const std::string& path) {
  return util::temporary_owner(std::filesystem::path(path).filename().string()) > 0;
}

}  // namespace preimage::test_support
