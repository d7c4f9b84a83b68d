#pragma once
// Small helpers shared by the test executables.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace preimage::test_support {

namespace detail {
// The folders fresh_dir made, removed when the test process ends (unless
// PREIMAGE_KEEP_TEST_OUTPUT is set: then their paths are printed, to look at the outputs).
class ScratchFolders {
 public:
  void add(const std::filesystem::path& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    folders_.push_back(p);
  }
  ~ScratchFolders() {
    const bool keep = std::getenv("PREIMAGE_KEEP_TEST_OUTPUT") != nullptr;
    for (const auto& f : folders_) {
      std::error_code ignored;
      if (keep) std::printf("test output kept in %s\n", f.c_str());
      else std::filesystem::remove_all(f, ignored);
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::filesystem::path> folders_;
};
inline ScratchFolders& scratch_folders() {
  static ScratchFolders folders;
  return folders;
}
}  // namespace detail

// A fresh, empty folder under the system's temporary folder, unique to this process and name,
// removed when the process ends.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("preimage_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  detail::scratch_folders().add(d);
  return d;
}

// The message and the hint of the UserError `f` throws ("" when it throws none).
template <typename F>
std::string user_error_of(F f) {
  try {
    f();
  } catch (const UserError& e) {
    return std::string(e.what()) + "\n  ---> HINT: " + e.hint();
  }
  return "";
}

// True if `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace preimage::test_support
