#include "util/npy.h"

#include <cstring>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.h"
#include "util/error.h"

namespace preimage::util {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

std::string shape_tuple(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

std::string npy_descr(NpyType type) {
  switch (type) {
    case NpyType::kFloat32: return "<f4";
    case NpyType::kFloat64: return "<f8";
    case NpyType::kInt64: return "<i8";
    case NpyType::kInt32: return "<i4";
    case NpyType::kUInt8: return "|u1";
    case NpyType::kBool: return "|b1";
  }
  return "";
}

size_t npy_item_size(NpyType type) {
  switch (type) {
    case NpyType::kFloat32: case NpyType::kInt32: return 4;
    case NpyType::kFloat64: case NpyType::kInt64: return 8;
    case NpyType::kUInt8: case NpyType::kBool: return 1;
  }
  return 0;
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string npy_encode(NpyType type, const std::vector<int64_t>& shape, const void* data) {
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   npy_descr(type), shape_tuple(shape));
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  const size_t payload = static_cast<size_t>(numel) * npy_item_size(type);

  std::string out(kMagic, kMagicSize);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  out.append(static_cast<const char*>(data), payload);
  return out;
}

void write_npy(const std::filesystem::path& path, NpyType type, const std::vector<int64_t>& shape,
               const void* data) {
  write_file_atomic(path, npy_encode(type, shape, data));
}

NpyArray read_npy(const std::filesystem::path& path) {
  return parse_npy(read_file(path), path.string());
}

NpyArray parse_npy(const std::string& bytes, const std::string& name) {
  const auto fail = [&](const std::string& why) {
    throw UserError(fmt::format("'{}' is not a readable .npy file: {}", name, why),
                    "write it with numpy.save (C order, float32/float64/int/uint8/bool)");
  };
  if (bytes.size() < 10 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0)
    fail("missing the \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated header");
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  } else {
    fail(fmt::format("unknown format version {}", major));
  }
  if (bytes.size() < offset + header_len) fail("truncated header");
  const std::string header = bytes.substr(offset, header_len);

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'"))) fail("no 'descr'");
  const std::string descr = m[1];
  NpyArray array;
  const std::pair<const char*, NpyType> known[] = {
      {"<f4", NpyType::kFloat32}, {"<f8", NpyType::kFloat64}, {"<i8", NpyType::kInt64},
      {"<i4", NpyType::kInt32},   {"|u1", NpyType::kUInt8},   {"|b1", NpyType::kBool}};
  bool found = false;
  for (const auto& [name, type] : known) {
    if (descr == name) {
      array.type = type;
      found = true;
    }
  }
  if (!found) fail(fmt::format("unsupported dtype '{}'", descr));
  array.fortran_order = std::regex_search(header, std::regex("'fortran_order':\\s*True"));
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) fail("no 'shape'");
  const std::string dims = m[1];
  const std::regex number("[-+]?\\d+");
  // The payload's size from the shape, without overflow: the header is checked against the
  // file's length before anything is allocated.
  uint64_t payload = npy_item_size(array.type);
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    const std::string text = it->str();
    if (text[0] == '-') fail(fmt::format("negative dimension {} in its shape", text));
    if (text.size() > 18) fail(fmt::format("dimension {} is too large", text));
    const int64_t d = std::stoll(text);
    array.shape.push_back(d);
    if (__builtin_mul_overflow(payload, static_cast<uint64_t>(d), &payload))
      fail(fmt::format("its shape ({}) overflows", dims));
  }
  const size_t start = offset + header_len;
  if (payload > bytes.size() || bytes.size() != start + payload)
    fail(fmt::format("payload has {} bytes, the header's shape {} needs {}", bytes.size() - start,
                     shape_tuple(array.shape), payload));
  array.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start), bytes.end());
  return array;
}

}  // namespace preimage::util
