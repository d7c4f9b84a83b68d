#pragma once
// SHA-256 of files (OpenSSL's libcrypto), to record which model file a run used.
#include <filesystem>
#include <string>

namespace preimage::util {

// Lowercase hex digest of the file's bytes; of a folder, of its regular files' names and digests
// in name order. Throws UserError naming the path when it cannot be read.
std::string sha256_of(const std::filesystem::path& path);

}  // namespace preimage::util
