#pragma once
// Shared by the libFuzzer targets: each feeds one input to a parser, and a UserError is a clean
// rejection; any other exception escapes and libFuzzer reports it (as it does a crash, a leak or
// undefined behaviour under the sanitizers).
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/error.h"

namespace preimage::fuzz {

// A folder of this process's own under the temporary folder, for parsers that take a path.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("preimage_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_scratch(const std::string& name, const std::string& bytes) {
  const auto path = scratch_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(),
                                                                static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Runs `parse`; a UserError is the parser refusing the input, which is what it should do.
template <typename F>
bool accepted(F parse) {
  try {
    parse();
    return true;
  } catch (const UserError&) {
    return false;
  }
}

// The input cut at each `separator` (targets that need several files from one input).
inline std::vector<std::string> split(const std::string& input, const std::string& separator) {
  std::vector<std::string> parts;
  size_t begin = 0;
  for (size_t at; (at = input.find(separator, begin)) != std::string::npos; begin = at + separator.size())
    parts.push_back(input.substr(begin, at - begin));
  parts.push_back(input.substr(begin));
  return parts;
}

}  // namespace preimage::fuzz
