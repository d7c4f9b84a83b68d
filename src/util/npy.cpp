#include "util/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/input_file.h"

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
  return parse_npy(read_input_file(path, ".npy file", "write it with numpy.save"), path.string());
}

namespace {

// The header's Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// read by hand: a regex would accept junk between the numbers and recurse on long headers.
class HeaderReader {
 public:
  HeaderReader(const std::string& text, const std::function<void(const std::string&)>& fail)
      : text_(text), fail_(fail) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* where) {
    if (!accept(c)) fail_(fmt::format("its header lacks '{}' {}", c, where));
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  std::string string() {  // 'text' or "text"
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail_("its header has a key or value that is not a quoted string");
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string::npos) fail_("its header has an unterminated string");
    std::string s = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail_("its 'fortran_order' is neither True nor False");
    return false;
  }
  // (d0, d1, ...): non-negative integers of at most 18 digits, at most 32 of them (NumPy's limit).
  std::vector<int64_t> shape() {
    expect('(', "before its shape");
    std::vector<int64_t> dims;
    while (!accept(')')) {
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '-') fail_("negative dimension in its shape");
      const size_t begin = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      const std::string digits = text_.substr(begin, pos_ - begin);
      if (digits.empty()) fail_("its shape is not a tuple of whole numbers");
      if (digits.size() > 18) fail_(fmt::format("dimension {} is too large", digits));
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2's long integers
      dims.push_back(std::stoll(digits));
      if (dims.size() > 32) fail_("its shape has more than 32 dimensions");
      if (!accept(',')) {
        expect(')', "closing its shape");
        break;
      }
    }
    return dims;
  }

 private:
  const std::string& text_;
  const std::function<void(const std::string&)>& fail_;
  size_t pos_ = 0;
};

}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& name) {
  const std::function<void(const std::string&)> fail = [&](const std::string& why) {
    throw UserError(fmt::format("'{}' is not a readable .npy file: {}", name, why),
                    "write it with numpy.save (C order, float32/float64/int/uint8/bool)");
  };
  if (bytes.size() < 10 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0)
    fail("missing the \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  uint64_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("truncated header");
    for (int i = 3; i >= 0; --i)  // little-endian uint32
      header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + static_cast<size_t>(i)]);
    offset = 12;
  } else {
    fail(fmt::format("unknown format version {}", major));
  }
  if (bytes.size() < offset + header_len) fail("truncated header");
  const std::string header = bytes.substr(offset, header_len);

  NpyArray array;
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<int64_t>> shape;
  HeaderReader reader(header, fail);
  reader.expect('{', "opening its dictionary");
  while (!reader.accept('}')) {
    const std::string key = reader.string();
    reader.expect(':', "after a key");
    if (key == "descr" && !descr) {
      descr = reader.string();
    } else if (key == "fortran_order" && !fortran) {
      fortran = reader.boolean();
    } else if (key == "shape" && !shape) {
      shape = reader.shape();
    } else {
      fail(fmt::format("its header has an unexpected or repeated key '{}'", key));
    }
    if (!reader.accept(',')) {
      reader.expect('}', "closing its dictionary");
      break;
    }
  }
  if (!reader.at_end()) fail("its header has text after the dictionary");
  if (!descr) fail("no 'descr'");
  if (!fortran) fail("no 'fortran_order'");
  if (!shape) fail("no 'shape'");

  const std::pair<const char*, NpyType> known[] = {
      {"<f4", NpyType::kFloat32}, {"<f8", NpyType::kFloat64}, {"<i8", NpyType::kInt64},
      {"<i4", NpyType::kInt32},   {"|u1", NpyType::kUInt8},   {"|b1", NpyType::kBool}};
  bool found = false;
  for (const auto& [code, type] : known) {
    if (*descr == code) {
      array.type = type;
      found = true;
    }
  }
  if (!found)
    fail(fmt::format("unsupported dtype '{}' (expected <f4, <f8, <i8, <i4, |u1 or |b1)", *descr));
  array.fortran_order = *fortran;
  array.shape = *shape;
  // The payload's size from the shape, without overflow: checked against the file's length
  // before anything is allocated.
  uint64_t payload = npy_item_size(array.type);
  int64_t span = 1;  // the elements without the empty dimensions: a tensor's strides must hold it
  for (const int64_t d : array.shape)
    if (__builtin_mul_overflow(payload, static_cast<uint64_t>(d), &payload) ||
        __builtin_mul_overflow(span, std::max<int64_t>(d, 1), &span))
      fail(fmt::format("its shape {} overflows", shape_tuple(array.shape)));
  const uint64_t start = offset + header_len;
  if (payload > bytes.size() || bytes.size() != start + payload)
    fail(fmt::format("payload has {} bytes, the header's shape {} needs {}", bytes.size() - start,
                     shape_tuple(array.shape), payload));
  array.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start), bytes.end());
  return array;
}

}  // namespace preimage::util
