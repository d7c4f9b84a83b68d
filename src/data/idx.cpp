#include "data/idx.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::data {
namespace {

constexpr unsigned char kUnsignedByteType = 0x08;  // IDX type code of uint8 payloads

uint32_t read_be32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& path, int expected_ndim) {
  const std::string hint = "re-fetch the data with scripts/setup.sh, or check the path";
  require(std::filesystem::exists(path), fmt::format("IDX file '{}' does not exist", path.string()),
          hint);
  const std::string bytes = util::read_file(path);
  const std::string name = path.string();
  require(bytes.size() >= 4, fmt::format("'{}' is too short ({} bytes) to be an IDX file", name,
                                         bytes.size()), hint);
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  require(b[0] == 0 && b[1] == 0 && b[2] == kUnsignedByteType,
          fmt::format("'{}' has magic {:02x} {:02x} {:02x} {:02x}, expected 00 00 08 0{} (an "
                      "unsigned-byte IDX file of {} dimensions)",
                      name, b[0], b[1], b[2], b[3], expected_ndim, expected_ndim),
          hint);
  const int ndim = b[3];
  require(ndim == expected_ndim,
          fmt::format("'{}' has {} dimensions, expected {} ({})", name, ndim, expected_ndim,
                      expected_ndim == 3 ? "images: count x rows x columns" : "labels: count"),
          "did you swap the images and labels files?");
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  require(bytes.size() >= header, fmt::format("'{}' is truncated inside its header", name), hint);
  std::vector<int64_t> shape;
  size_t payload = 1;
  for (int i = 0; i < ndim; ++i) {
    shape.push_back(read_be32(bytes, 4 + 4 * static_cast<size_t>(i)));
    payload *= static_cast<size_t>(shape.back());
  }
  require(bytes.size() == header + payload,
          fmt::format("'{}' has {} bytes of data, its header ({}) promises {}", name,
                      bytes.size() - header, fmt::join(shape, " x "), payload),
          bytes.size() < header + payload ? "the file is truncated: " + hint : hint);
  auto tensor = torch::empty(shape, torch::kUInt8);
  std::memcpy(tensor.data_ptr<uint8_t>(), bytes.data() + header, payload);
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
