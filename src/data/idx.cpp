#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/input_file.h"

namespace preimage::data {
namespace {

constexpr unsigned char kUnsignedByteType = 0x08;  // IDX type code of uint8 payloads
constexpr size_t kMaxHeader = 4 + 4 * 255;         // magic + up to 255 dimension sizes
// Deflate expands at most 1032:1, so a gzip file can hold no more than this many bytes per
// byte of its own: a header promising more is refused before anything is inflated.
constexpr uint64_t kMaxDeflateRatio = 1032;
const char* const kHint = "re-fetch the data with scripts/setup.sh, or check the path";

uint32_t read_be32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// The first `limit` bytes (fewer if the stream ends first) of a gzip file's contents, grown as
// they are inflated: a header that lies about the size costs no more than the true contents.
std::string gunzip_prefix(const std::string& gz, const std::string& name, uint64_t limit) {
  z_stream z{};
  require(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, "cannot start zlib's decompressor");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  constexpr size_t kChunk = size_t{1} << 24;  // 16 MiB: zlib counts in uInt
  std::string out;
  size_t in_done = 0;
  int status = Z_OK;
  while (status == Z_OK && out.size() < limit) {
    const size_t before = out.size();
    out.resize(before + static_cast<size_t>(std::min<uint64_t>(kChunk, limit - before)));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + in_done));
    z.avail_in = static_cast<uInt>(std::min(gz.size() - in_done, kChunk));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(out.size() - before);
    const uInt in_given = z.avail_in;
    status = inflate(&z, Z_NO_FLUSH);
    in_done += in_given - z.avail_in;
    out.resize(out.size() - z.avail_out);
    // Z_BUF_ERROR: no progress possible; with input left that is only the output being full.
    if (status == Z_BUF_ERROR && in_done < gz.size()) status = Z_OK;
    if (status == Z_OK && in_done == gz.size() && out.size() == before) break;  // truncated
  }
  require(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
          fmt::format("'{}' is a corrupt gzip file ({})", name, z.msg != nullptr ? z.msg : "zlib error"),
          kHint);
  return out;
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& path, int expected_ndim) {
  return parse_idx(util::read_input_file(path, "IDX file", kHint), path.string(), expected_ndim);
}

torch::Tensor parse_idx(const std::string& file, const std::string& name, int expected_ndim) {
  const bool gzipped = is_gzip(file);
  // A gzipped file is inflated twice: its header first, then exactly what the header promises.
  const std::string head = gzipped ? gunzip_prefix(file, name, kMaxHeader) : std::string();
  const std::string& h = gzipped ? head : file;
  const char* unzipped = gzipped ? " (decompressed)" : "";
  // What a gzipped file's header says is what its contents say: the messages name both.
  const std::string as_read = gzipped ? name + "' (gzip, decompressed)" : name + "'";
  require(h.size() >= 4, fmt::format("'{}' is too short ({} bytes{}) to be an IDX file", name,
                                     h.size(), unzipped), kHint);
  const auto* b = reinterpret_cast<const unsigned char*>(h.data());
  require(b[0] == 0 && b[1] == 0 && b[2] == kUnsignedByteType,
          fmt::format("'{} has magic {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 0{} (an "
                      "unsigned-byte IDX file of {} dimensions)",
                      as_read, b[0], b[1], b[2], b[3], expected_ndim, expected_ndim),
          kHint);
  const int ndim = b[3];
  require(ndim == expected_ndim,
          fmt::format("'{} has {} dimensions, expected {} ({})", as_read, ndim, expected_ndim,
                      expected_ndim == 3 ? "images: count x rows x columns" : "labels: count"),
          "did you swap the images and labels files?");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  require(h.size() >= header, fmt::format("'{}' is truncated inside its header", name), kHint);
  std::vector<int64_t> shape;
  uint64_t payload = 1;
  bool overflow = false;
  for (int i = 0; i < ndim; ++i) {
    shape.push_back(read_be32(h, 4 + 4 * static_cast<size_t>(i)));
    overflow = overflow || __builtin_mul_overflow(payload, static_cast<uint64_t>(shape.back()), &payload);
  }
  require(!overflow,
          fmt::format("'{}' has a header ({}) whose size overflows: not an IDX file", name,
                      fmt::join(shape, " x ")),
          kHint);
  const uint64_t promised = header + payload;
  if (gzipped) {  // a plain file's size is checked below, before anything is allocated
    require(promised <= file.size() * kMaxDeflateRatio && promised <= util::physical_memory_bytes(),
            fmt::format("'{}' is a gzip file of {} bytes, which cannot hold the {} bytes of data "
                        "its header ({}) promises",
                        name, file.size(), payload, fmt::join(shape, " x ")),
            "the file is truncated or not an IDX file: " + std::string(kHint));
  }
  const std::string body = gzipped ? gunzip_prefix(file, name, promised + 1) : std::string();
  const std::string& bytes = gzipped ? body : file;
  require(bytes.size() == promised,
          fmt::format("'{}' has {} bytes of data{}, its header ({}) promises {}", name,
                      bytes.size() - header, unzipped, fmt::join(shape, " x "), payload),
          bytes.size() < promised ? "the file is truncated: " + std::string(kHint) : kHint);
  auto tensor = torch::empty(shape, torch::kUInt8);
  if (payload > 0) std::memcpy(tensor.data_ptr<uint8_t>(), bytes.data() + header, payload);
  return tensor;
}

void write_idx(const std::filesystem::path& path, const torch::Tensor& values) {
  auto v = values.to(torch::kUInt8).contiguous();
  std::string out{'\0', '\0', static_cast<char>(kUnsignedByteType), static_cast<char>(v.dim())};
  for (int64_t d : v.sizes()) append_be32(out, static_cast<uint32_t>(d));
  out.append(reinterpret_cast<const char*>(v.data_ptr<uint8_t>()), static_cast<size_t>(v.numel()));
  util::write_file_atomic(path, out);
}

}  // namespace preimage::data
