#pragma once
// SHA-256 (OpenSSL's libcrypto): of files, to record which model file a run used; of bytes, to
// checksum a checkpoint's parameters.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace preimage::util {

// An incremental digest: add() bytes, then finish() once for the lowercase hex digest.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void add(const void* data, size_t size);
  std::string finish();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Lowercase hex digest of the file's bytes; of a folder, of its regular files' names and digests
// in name order. Throws UserError naming the path when it cannot be read.
std::string sha256_of(const std::filesystem::path& path);

}  // namespace preimage::util
