#pragma once
// Small helpers shared by the test executables.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace preimage::test_support {

// A fresh, empty folder under the system's temporary folder, unique to this process and name.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("preimage_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// True if `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace preimage::test_support
