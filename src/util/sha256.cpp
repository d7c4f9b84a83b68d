#include "util/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "util/error.h"
#include "util/memo.h"

namespace preimage::util {
namespace fs = std::filesystem;
namespace {

std::string hex(const unsigned char* digest, unsigned size) {
  std::string out;
  for (unsigned i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

std::string file_digest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), fmt::format("cannot read '{}' to hash it", path.string()));
  Sha256 h;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    h.add(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  require(in.eof(), fmt::format("reading '{}' failed while hashing it", path.string()));
  return h.finish();
}

}  // namespace

struct Sha256::Context {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  require(context_->ctx && EVP_DigestInit_ex(context_->ctx.get(), EVP_sha256(), nullptr) == 1,
          "OpenSSL could not start a SHA-256 digest");
}

Sha256::~Sha256() = default;

void Sha256::add(const void* data, size_t size) {
  EVP_DigestUpdate(context_->ctx.get(), data, size);
}

std::string Sha256::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_DigestFinal_ex(context_->ctx.get(), digest, &size);
  return hex(digest, size);
}

std::string sha256_of(const fs::path& path) {
  if (!fs::is_directory(path)) {
    // A file is hashed once a process while it is unchanged (the model's checksum is checked
    // by several steps of one command).
    static Memo<std::string> digests(64);
    return digests.get(file_stamp(path), [&] { return file_digest(path); });
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& f : files) {
    const std::string line = f.filename().string() + " " + file_digest(f) + "\n";
    h.add(line.data(), line.size());
  }
  return h.finish();
}

}  // namespace preimage::util
